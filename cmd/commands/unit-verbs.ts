// `launcher start|stop|restart UNIT...`: act on units of the running launcher.
import type { CommandModule } from 'yargs';
import { finish } from '../exit.js';
import { controlOption } from '../options.js';
import { call, printProgress } from '../client.js';

interface RestartOutcome {
  unit: string;
  instances: { index: number; oldPid: number | null; newPid: number; readyMs: number; drainMs: number }[];
}

/** "web: 1234 → 5678, ready in 120 ms, drained in 30 ms" for each instance swapped. */
export function describeRestart(outcome: RestartOutcome): string[] {
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
        const reply = await call(argv.control, verb, { units: argv.units as string[] }, printProgress);
        const results = (reply.units as { unit: string; report?: RestartOutcome; state?: string }[] | undefined) ?? [];
        for (const r of results) {
          if (r.report) for (const line of describeRestart(r.report)) process.stdout.write(line + '\n');
          else process.stdout.write(`${r.unit}: ${r.state ?? 'done'}\n`);
        }
      }),
  };
}

export const start = unitVerb('start', 'Start units (clears a failed state)');
export const stop = unitVerb('stop', 'Stop units; their sockets stay open');
export const restart = unitVerb('restart', 'Swap units\' children by their handoff; exit 1 if it rolled back');
