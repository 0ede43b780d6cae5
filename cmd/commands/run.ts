// `launcher run -l ADDR... -- CMD ARGS`: `up` for one ad-hoc unit given on the command line.
import type { CommandModule } from 'yargs';
import { finish } from '../exit.js';
import { compilersBack } from '../lean-v8-after-start.js';
import { controlOption } from '../options.js';
import { LauncherError } from '../../src/errors.js';
import type { LogFormat } from '../../src/entrypoint/log.js';
import { logDirOption, logDirOptions } from '../log-options.js';

export const run: CommandModule = {
  command: 'run',
  describe: 'Run one command on sockets given with -l (like `up` for an ad-hoc unit)',
  builder: (y) =>
    y
      .usage('$0 run [-l ADDR]... [--name N] [--fdname NAME] [--ready notify] -- CMD [ARG...]')
      .option('l', { alias: 'listen', type: 'string', array: true, default: [], describe: 'Address to listen on (any unit-file form); repeatable' })
      .option('name', { type: 'string', describe: 'Unit name', default: 'run' })
      .option('fdname', { type: 'string', describe: 'LISTEN_FDNAMES entry for the sockets (default: the unit name)' })
      .option('ready', { choices: ['started', 'notify'] as const, default: 'started', describe: 'Readiness protocol' })
      .option('control', controlOption)
      .option('log-format', { choices: ['text', 'json'] as const, default: 'text' })
      .options(logDirOptions)
      .parserConfiguration({ 'populate--': true }),
  handler: (argv) =>
    finish(async () => {
      const command = ((argv['--'] as unknown[] | undefined) ?? []).map(String);
      if (command.length === 0) {
        throw new LauncherError('LAUNCHER_USAGE', 'run needs a command after `--`, e.g. `launcher run -l 8080 -- node server.mjs`');
      }
      // Before the launcher's modules load: their evaluation is the first burst that would grow it.
      (await import('../../src/entrypoint/young-generation.js')).capYoungGeneration();
      const { runAdHoc } = await import('../../src/entrypoint/up.js');
      return runAdHoc({
        name: argv.name as string,
        listen: (argv.l as string[]).map(String),
        fdname: argv.fdname as string | undefined,
        ready: argv.ready as 'started' | 'notify',
        exec: command,
        control: argv.control as string | undefined,
        logFormat: argv['log-format'] as LogFormat,
        logDir: logDirOption(argv),
        onStarted: compilersBack,
      });
    }),
};
