// The sockets a service was started with, read by the one parser of the
// activation protocol (sockets/listen-fds.ts), as libsystemd's
// sd_listen_fds_with_names() reads them: LISTEN_PID must be this process,
// LISTEN_FDS counts fds from 3, LISTEN_FDNAMES names them. Works the same
// under the launcher and under systemd itself.
import { LauncherError, orThrow } from '../errors.js';
import { parseListenFds } from '../sockets/listen-fds.js';
import { setCloexec } from '../sys/libc.js';
import { malformedListenFds } from './errors.js';

export { LISTEN_FDS_START as SD_LISTEN_FDS_START } from '../sockets/listen-fds.js';

/** One inherited socket: its LISTEN_FDNAMES entry and its fd. */
export interface Listener {
  readonly name: string;
  readonly fd: number;
}

/**
 * The fds passed by LISTEN_FDS/LISTEN_FDNAMES, in order, when LISTEN_PID is
 * this process; `[]` when LISTEN_PID or LISTEN_FDS is unset or LISTEN_PID is
 * another process (a parent's fds are not ours). Names default to "unknown"
 * when LISTEN_FDNAMES is unset or empty. Like sd_listen_fds it marks the fds
 * close-on-exec, so the service's own children do not inherit them, and it
 * leaves the environment alone. Throws LAUNCHER_LISTEN_FDS when the variables
 * are meant for this process but malformed (sd_listen_fds returns -EINVAL then:
 * a LISTEN_FDS of 0, a name count that differs from the fd count).
 */
export function listeners(env: NodeJS.ProcessEnv = process.env): Listener[] {
  const found = parseListenFds(env, process.pid);
  if (found.kind === 'malformed') {
    throw malformedListenFds(found.problem, { received: JSON.stringify({ LISTEN_PID: env.LISTEN_PID, LISTEN_FDS: env.LISTEN_FDS, LISTEN_FDNAMES: env.LISTEN_FDNAMES }) });
  }
  if (found.kind === 'none') return [];
  return found.fds.map(({ name, fd }) => {
    orThrow(setCloexec(fd, true), 'fcntl(F_SETFD)', { fd, socket: name });
    return { name, fd };
  });
}

/**
 * The first inherited socket named `name` (any name: the first one), as a
 * handle for `server.listen(listener('http'))`. Throws LAUNCHER_NO_SOCKET,
 * naming what was passed, when there is no such socket.
 */
export function listener(name?: string, env: NodeJS.ProcessEnv = process.env): { fd: number } {
  const all = listeners(env);
  const found = name === undefined ? all[0] : all.find((l) => l.name === name);
  if (found) return { fd: found.fd };
  const passed = all.length === 0 ? 'no sockets were passed (LISTEN_FDS/LISTEN_PID not set for this process)' : `passed: ${all.map((l) => `${l.name}=fd ${l.fd}`).join(', ')}`;
  throw new LauncherError('LAUNCHER_NO_SOCKET', `no inherited socket${name === undefined ? '' : ` named "${name}"`}; ${passed}`, {
    ...(name === undefined ? {} : { socket: name }),
    received: all.map((l) => l.name).join(':'),
  });
}
