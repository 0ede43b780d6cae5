// `launcher logs [UNIT...] [-n N] [-f] [--json]`: the launcher's in-memory log of
// each unit's output and its own events, then (with -f) new lines until interrupted.
import type { CommandModule } from 'yargs';
import { finish } from '../exit.js';
import { controlOption } from '../options.js';
import { call } from '../client.js';
import type { LogsEvent } from '../../src/control/replies.js';
import { formatText, wantsColour, type LogRecord } from '../../src/entrypoint/log-record.js';

/** A wire record (see src/entrypoint/log-follow.ts) back as a LogRecord for formatting. */
function fromWire(w: Readonly<Record<string, unknown>>): LogRecord {
  const text = typeof w.text === 'string' ? w.text : typeof w.message === 'string' ? w.message : '';
  return {
    seq: Number(w.seq ?? 0),
    time: Date.parse(String(w.time)) || Date.now(),
    unit: typeof w.unit === 'string' ? w.unit : null,
    instance: typeof w.instance === 'number' ? w.instance : undefined,
    pid: typeof w.pid === 'number' ? w.pid : undefined,
    stream: w.stream === 'stdout' || w.stream === 'stderr' ? w.stream : 'launcher',
    level: w.level === 'warn' || w.level === 'error' ? w.level : 'info',
    text,
  };
}

export const logs: CommandModule = {
  command: 'logs [units..]',
  describe: 'Print the last lines of units\' output from the launcher\'s memory; -f follows',
  builder: (y) =>
    y
      .positional('units', { type: 'string', array: true, describe: 'Units to show (default: all, and the launcher\'s own events)' })
      .option('n', { alias: 'lines', type: 'number', default: 10, describe: 'How many of the last lines to print first' })
      .option('f', { alias: 'follow', type: 'boolean', default: false, describe: 'Then print new lines as they come, until interrupted' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON object per line' })
      .option('control', controlOption),
  handler: (argv) =>
    finish(async () => {
      // `launcher logs -f | head`: once the reader is gone there is nothing left to do.
      process.stdout.on('error', () => process.exit(0));
      const lines = Number(argv.n);
      if (!Number.isInteger(lines) || lines < 0) {
        const { LauncherError } = await import('../../src/errors.js');
        throw new LauncherError('LAUNCHER_USAGE', `-n must be a whole number of lines, got ${String(argv.n)}`);
      }
      const style = { colour: !argv.json && wantsColour(1, process.env), priority: false, time: true };
      const print = (event: LogsEvent): void => {
        if ('skipped' in event) {
          const n = event.skipped;
          const note = `… ${n} line${n === 1 ? '' : 's'} skipped (this reader was too slow)`;
          process.stdout.write((argv.json ? JSON.stringify({ skipped: n, message: note }) : note) + '\n');
          return;
        }
        process.stdout.write((argv.json ? JSON.stringify(event.line) : formatText(fromWire(event.line), style)) + '\n');
      };
      await call(argv.control, 'logs', { units: (argv.units as string[] | undefined) ?? [], lines, follow: Boolean(argv.f) }, print);
    }),
};
