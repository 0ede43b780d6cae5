// The sockets a service was started with, read the way libsystemd's
// sd_listen_fds_with_names() reads them: LISTEN_PID must be this process,
// LISTEN_FDS counts fds from 3, LISTEN_FDNAMES names them. Works the same
// under the launcher and under systemd itself.
import { setCloexec } from '../sys/libc.js';

/** The first fd passed by the socket-activation convention. */
export const SD_LISTEN_FDS_START = 3;

/** One inherited socket: its LISTEN_FDNAMES entry and its fd. */
export interface Listener {
  readonly name: string;
  readonly fd: number;
}

// At most 9 digits, as the launcher reads them: a larger LISTEN_FDS is malformed, not a huge array.
const DECIMAL = /^[0-9]{1,9}$/;

/**
 * The fds passed by LISTEN_FDS/LISTEN_FDNAMES, in order, when LISTEN_PID is
 * this process; `[]` when LISTEN_PID or LISTEN_FDS is unset or LISTEN_PID is
 * another process (a parent's fds are not ours). Names default to "unknown"
 * when LISTEN_FDNAMES is unset or empty. Like sd_listen_fds it marks the fds
 * close-on-exec, so the service's own children do not inherit them, and it
 * leaves the environment alone. Throws an Error when the variables are meant
 * for this process but malformed (sd_listen_fds returns -EINVAL then).
 */
export function listeners(env: NodeJS.ProcessEnv = process.env): Listener[] {
  const pidText = env.LISTEN_PID;
  const countText = env.LISTEN_FDS;
  if (pidText === undefined || countText === undefined) return [];
  if (!DECIMAL.test(pidText.trim()) || Number(pidText) <= 0) {
    throw new Error(`LISTEN_PID=${JSON.stringify(pidText)} is not a pid`);
  }
  if (Number(pidText) !== process.pid) return [];
  if (!DECIMAL.test(countText.trim())) throw new Error(`LISTEN_FDS=${JSON.stringify(countText)} is not a count`);
  const count = Number(countText);
  if (count === 0) return [];
  const names = fdNames(env.LISTEN_FDNAMES, count);
  return names.map((name, i) => {
    const fd = SD_LISTEN_FDS_START + i;
    setCloexec(fd, true);
    return { name, fd };
  });
}

function fdNames(text: string | undefined, count: number): string[] {
  if (text === undefined || text === '') return new Array<string>(count).fill('unknown');
  const names = text.split(':');
  if (names.length !== count) {
    throw new Error(`LISTEN_FDNAMES has ${names.length} names for LISTEN_FDS=${count}`);
  }
  return names;
}

/**
 * The first inherited socket named `name` (any name: the first one), as a
 * handle for `server.listen(listener('http'))`. Throws an Error naming what
 * was passed when there is no such socket.
 */
export function listener(name?: string, env: NodeJS.ProcessEnv = process.env): { fd: number } {
  const all = listeners(env);
  const found = name === undefined ? all[0] : all.find((l) => l.name === name);
  if (found) return { fd: found.fd };
  const passed = all.length === 0 ? 'no sockets were passed (LISTEN_FDS/LISTEN_PID not set for this process)' : `passed: ${all.map((l) => `${l.name}=fd ${l.fd}`).join(', ')}`;
  throw new Error(`no inherited socket${name === undefined ? '' : ` named "${name}"`}; ${passed}`);
}
