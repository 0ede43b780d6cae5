// `launcher start|stop|restart UNIT...`: act on units of the running launcher.
import type { CommandModule } from 'yargs';
import { finish } from '../exit.js';
import { controlOption } from '../options.js';
import { call, printProgress } from '../client.js';
import type { RestartReport } from '../../src/control/replies.js';

/** "web: 1234 → 5678, ready in 120 ms, drained in 30 ms" for each instance swapped. */
export function describeRestart(outcome: RestartReport): string[] {
  return outcome.instances.map((i) => {
    const which = outcome.instances.length > 1 ? `[${i.index}]` : '';
    return `${outcome.unit}${which}: ${i.oldPid ?? '-'} → ${i.newPid}, ready in ${Math.round(i.readyMs)} ms, drained in ${Math.round(i.drainMs)} ms`;
  });
}

function unitVerb(verb: 'start' | 'stop' | 'restart', describe: string): CommandModule {
  return {
    command: `${verb} <units..>`,
    describe,
    builder: (y) =>
      y
        .positional('units', { type: 'string', array: true, describe: 'Unit names' })
        .option('control', controlOption),
    handler: (argv) =>
      finish(async () => {
        const units = argv.units as string[];
        if (verb === 'restart') {
          const reply = await call(argv.control, verb, { units }, printProgress);
          for (const r of reply.units) for (const line of describeRestart(r.report)) process.stdout.write(line + '\n');
        } else {
          const reply = await call(argv.control, verb, { units }, printProgress);
          for (const r of reply.units) process.stdout.write(`${r.unit}: ${r.state}\n`);
        }
      }),
  };
}

export const start = unitVerb('start', 'Start units (clears a failed state)');
export const stop = unitVerb('stop', 'Stop units; their sockets stay open');
export const restart = unitVerb('restart', 'Swap units\' children by their handoff; exit 1 if it rolled back');
