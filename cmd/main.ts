// The `launcher` command (loaded by cmd/launcher.ts): a yargs root with one module per verb in ./commands.
// Verbs stay thin: parse flags, call src/, let exit.ts map the outcome.
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { reportError, setDebug } from './exit.js';
import { LauncherError } from '../src/errors.js';
import { commands } from './commands/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const cli = yargs(hideBin(process.argv))
  .scriptName('launcher')
  .usage('$0 <command> [options]\n\nRuns services on sockets it owns, the systemd way (LISTEN_FDS).')
  .option('debug', { type: 'boolean', describe: 'Show stack traces with errors', global: true })
  .middleware((argv) => setDebug(Boolean(argv.debug)))
  .command(commands)
  .demandCommand(1, 'Name a command; see `launcher --help`.')
  .recommendCommands()
  .strict()
  .version(pkg.version)
  .help()
  .alias('h', 'help')
  .wrap(Math.min(100, process.stdout.columns ?? 100))
  .fail((message, error) => {
    // yargs calls this for usage errors (message) and for errors thrown by handlers (error).
    if (error && !(error instanceof LauncherError && error.code === 'LAUNCHER_USAGE')) throw error;
    process.stderr.write(`launcher: ${message ?? error?.message}\n`);
    process.stderr.write('Run `launcher --help` (or `launcher COMMAND --help`) for usage.\n');
    process.exit(2);
  });

// No top-level await: a lazily loaded chunk of the bundled CLI imports this module
// again, and a module still awaiting at top level would deadlock that import (exit 13).
cli.parseAsync().catch((error: unknown) => {
  process.exitCode = reportError(error);
});
