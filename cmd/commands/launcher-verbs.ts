// `launcher reload` and `launcher down`: act on the running launcher as a whole.
import type { CommandModule } from 'yargs';
import { finish } from '../exit.js';
import { controlOption } from '../options.js';
import { call, printProgress } from '../client.js';

export const reload: CommandModule = {
  command: 'reload',
  describe: 'Re-read the unit directory and apply the difference (exit 2 if invalid; nothing changes)',
  builder: (y) => y.option('control', controlOption),
  handler: (argv) =>
    finish(async () => {
      const reply = await call(argv.control, 'reload', {}, printProgress);
      const summary = (reply.summary as string[] | undefined) ?? [];
      process.stdout.write(summary.length ? summary.join('\n') + '\n' : 'nothing changed\n');
    }),
};

export const down: CommandModule = {
  command: 'down',
  describe: 'Stop every service, close the sockets and end the launcher',
  builder: (y) => y.option('control', controlOption),
  handler: (argv) =>
    finish(async () => {
      await call(argv.control, 'down', {}, printProgress);
      process.stdout.write('launcher is stopping\n');
    }),
};
