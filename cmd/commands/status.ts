// `launcher status [UNIT...] [--json|--check]`: what runs, on which sockets, since when; or just whether all is well.
import type { CommandModule } from 'yargs';
import { finish } from '../exit.js';
import { controlOption } from '../options.js';
import { call } from '../client.js';
import { formatStatusTable, outputWidth } from '../status-table.js';
import { checkExitCode } from '../status-check.js';

export const status: CommandModule = {
  command: 'status [units..]',
  describe: 'Show units: state, pids, sockets, uptime, restarts, last STATUS=',
  builder: (y) =>
    y
      .positional('units', { type: 'string', array: true, describe: 'Units to show (default: all)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the reply as JSON' })
      .option('check', {
        type: 'boolean',
        default: false,
        describe: 'Print nothing; exit 0 if every unit is running or waiting, 1 otherwise (health probes)',
      })
      .option('control', controlOption),
  handler: (argv) =>
    finish(async () => {
      const reply = await call(argv.control, 'status', { units: (argv.units as string[] | undefined) ?? [] });
      if (argv.check) return checkExitCode(reply);
      if (argv.json) process.stdout.write(JSON.stringify(reply, null, 2) + '\n');
      else process.stdout.write(formatStatusTable(reply, outputWidth()));
    }),
};
