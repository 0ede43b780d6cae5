// Where the control socket lives: the one place that applies SPEC's lookup order,
// so `up` and every client verb agree on the path without talking to each other.
import path from 'node:path';

/** What decides the control socket's path; every field defaults to this process's own. */
export interface ControlPathOptions {
  /** The `--control PATH` flag, when given. */
  flag?: string;
  /** The environment to read LAUNCHER_CONTROL and XDG_RUNTIME_DIR from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The effective uid (default process.geteuid()). */
  uid?: number;
}

/**
 * The control socket path, first match wins (SPEC "Command line"):
 * `--control PATH`, env `LAUNCHER_CONTROL`, `$XDG_RUNTIME_DIR/launcher/control.sock`,
 * `/run/launcher/control.sock` for root, else `/tmp/launcher-<uid>/control.sock`.
 * Empty strings count as unset (a `LAUNCHER_CONTROL=` in a shell means "not set").
 * Relative paths are resolved against the current directory so the server and a
 * client started elsewhere still compare equal paths in messages.
 */
export function controlSocketPath(opts: ControlPathOptions = {}): string {
  const env = opts.env ?? process.env;
  const uid = opts.uid ?? process.geteuid?.() ?? 0;
  const explicit = nonEmpty(opts.flag) ?? nonEmpty(env.LAUNCHER_CONTROL);
  if (explicit !== undefined) return path.resolve(explicit);
  const runtimeDir = nonEmpty(env.XDG_RUNTIME_DIR);
  if (runtimeDir !== undefined) return path.join(path.resolve(runtimeDir), 'launcher', 'control.sock');
  if (uid === 0) return '/run/launcher/control.sock';
  return `/tmp/launcher-${uid}/control.sock`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
