// `launcher up`: run every unit of the directory in the foreground.
import type { CommandModule } from 'yargs';
import { finish } from '../exit.js';
import { compilersBack } from '../lean-v8-after-start.js';
import { controlOption, unitsDir, unitsOption } from '../options.js';
import type { LogFormat } from '../../src/entrypoint/log.js';
import { logDirOption, logDirOptions } from '../log-options.js';

export const up: CommandModule = {
  command: 'up',
  describe: 'Bind the units\' sockets and run their services in the foreground',
  builder: (y) =>
    y
      .option('units', unitsOption)
      .option('control', controlOption)
      .option('log-format', { choices: ['text', 'json'] as const, default: 'text', describe: 'Output format' })
      .options(logDirOptions),
  handler: (argv) =>
    finish(async () => {
      // Imported here so that client verbs do not load the launcher (and koffi) at start-up.
      // Before the launcher's modules load: their evaluation is the first burst that would grow it.
      (await import('../../src/entrypoint/young-generation.js')).capYoungGeneration();
      const { runUp } = await import('../../src/entrypoint/up.js');
      return runUp({
        unitsDir: unitsDir(argv.units),
        control: argv.control as string | undefined,
        logFormat: argv['log-format'] as LogFormat,
        logDir: logDirOption(argv),
        onStarted: compilersBack,
      });
    }),
};
