// Every verb of the `launcher` command, in the order `--help` lists them.
import type { CommandModule } from 'yargs';
import { up } from './up.js';
import { run } from './run.js';
import { check } from './check.js';
import { status } from './status.js';
import { start, stop, restart } from './unit-verbs.js';
import { reload, down } from './launcher-verbs.js';
import { logs } from './logs.js';

export const commands: CommandModule[] = [up, run, check, status, start, stop, restart, logs, reload, down];
