// Every verb of the `launcher` command, in the order `--help` lists them.
//
// Loading rule (docs/footprint.md): a verb module imports at top level only yargs
// types, cmd/ helpers, src/errors and the control client. Whatever else it needs
// from src/ it imports inside its handler with `await import(...)` (see up.ts), so
// `launcher status` never loads the launcher, koffi, execa or toml, and the bundle
// puts each such path in its own lazily loaded chunk.
import type { CommandModule } from 'yargs';
import { up } from './up.js';
import { run } from './run.js';
import { check } from './check.js';
import { status } from './status.js';
import { start, stop, restart } from './unit-verbs.js';
import { reload, down, upgrade } from './launcher-verbs.js';
import { logs } from './logs.js';

export const commands: CommandModule[] = [up, run, check, status, start, stop, restart, logs, reload, upgrade, down];
