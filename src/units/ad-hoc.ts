// `launcher run -l ADDR... -- CMD`: a unit from command-line flags, validated like a unit file.
import path from 'node:path';
import { AD_HOC_DEFAULT_NAME } from './defaults.js';
import type { ValidateOptions } from './context.js';
import { fileKeyName, type KeyNamer } from './issues.js';
import type { Unit } from './types.js';
import { aggregateError, checkUnit } from './validate.js';

export interface AdHocOptions {
  /** Unit name (LAUNCHER_UNIT, default fd name); default "run". */
  readonly name?: string;
  /** `-l` addresses, in order: fds 3, 4, ... */
  readonly listen: readonly string[];
  /** LISTEN_FDNAMES entry for every socket; default the unit name. */
  readonly fdname?: string;
  readonly ready?: 'notify' | 'started';
  /** CMD ARGS after `--`. */
  readonly exec: readonly string[];
  /** Working directory, and the folder "unix:relative" addresses are resolved against. */
  readonly cwd: string;
}

/** Errors name the flag the value came from instead of a unit-file key. */
const flagName: KeyNamer = (ref) => {
  if (ref.table === undefined && ref.key === undefined) return '--name';
  if (ref.table === 'service' && ref.key === 'exec') return 'CMD';
  if (ref.table === 'service' && ref.key === 'ready') return '--ready';
  if (ref.table === 'socket' && ref.key === 'listen') return '-l';
  if (ref.table === 'socket' && ref.key === 'name') return '--fdname';
  return fileKeyName(ref);
};

/**
 * The Unit for `launcher run`. Same checks and defaults as a unit file; `file` is "" (there is
 * none). Throws 'LAUNCHER_UNITS_INVALID' whose errors carry `key` = the flag ("-l", "--name",
 * "--fdname", "--ready", "CMD") and no `file`.
 */
export function adHocUnit(opts: AdHocOptions, options: ValidateOptions = {}): Unit {
  const cwd = path.resolve(opts.cwd);
  const name = opts.name ?? AD_HOC_DEFAULT_NAME;
  const data = {
    service: { exec: [...opts.exec], ...(opts.ready !== undefined ? { ready: opts.ready } : {}) },
    socket: opts.listen.map((listen) => ({ listen, ...(opts.fdname !== undefined ? { name: opts.fdname } : {}) })),
  };
  const checked = checkUnit({ name, file: '', data }, options, { keyName: flagName, unitDir: cwd, file: null });
  if (checked.unit) return checked.unit;
  // --fdname applies to every socket: report each distinct problem once.
  const seen = new Set<string>();
  const errors = checked.issues.errors.filter((e) => {
    const id = `${String(e.context.key)}\u0000${e.message}`;
    return seen.has(id) ? false : (seen.add(id), true);
  });
  throw aggregateError(errors, 'command line');
}
