// The environment a service starts with: the launcher's own minus any stale
// activation variables, the unit's env, then the activation protocol on top.
import type { BoundSocket } from '../sockets/bound-socket.js';
import { listenEnv, listenPidVariables } from '../sockets/listen-fds.js';
import type { Unit } from '../units/types.js';

/** Variables that belong to the protocol between the launcher and this one child. */
function isProtocolVariable(name: string): boolean {
  return name.startsWith('LISTEN_') || name === 'NOTIFY_SOCKET' || name.startsWith('WATCHDOG_') || name === 'REMOTE_ADDR' || name === 'REMOTE_PORT' || name === 'LAUNCHER_STORED_FDS';
}

/** An fd passed to a child beyond the unit's sockets, with its LISTEN_FDNAMES entry. */
export interface PassedFd {
  readonly fd: number;
  readonly name: string;
}

/** What buildServiceEnv needs besides the unit. */
export interface ServiceEnvOptions {
  readonly unit: Unit;
  readonly instance: number;
  readonly sockets: readonly BoundSocket[];
  /** Passed after the sockets and counted in LISTEN_FDS: stored fds, or an accepted connection. */
  readonly extraFds?: readonly PassedFd[];
  readonly notifySocket?: string;
  /** More protocol variables (REMOTE_ADDR, REMOTE_PORT for a connection). */
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** Default process.env. */
  readonly baseEnv?: NodeJS.ProcessEnv;
  /** HOME, USER, LOGNAME, SHELL of the unit's `user` (after the base, before the unit's env). */
  readonly identityEnv?: Readonly<Record<string, string>>;
}

/**
 * baseEnv without LISTEN_* / NOTIFY_SOCKET / WATCHDOG_* (a launcher started by systemd
 * must not leak its own), plus unit.service.env, plus LISTEN_FDS and LISTEN_FDNAMES (only
 * when there are sockets), LAUNCHER_UNIT, LAUNCHER_INSTANCE, NOTIFY_SOCKET (when given) and
 * WATCHDOG_USEC (when watchdogMs > 0). The protocol wins over the unit's env. LISTEN_PID
 * and WATCHDOG_PID are NOT here: only the exec shim knows the pid (see exec-shim.ts).
 */
export function buildServiceEnv(opts: ServiceEnvOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(opts.baseEnv ?? process.env)) {
    if (value !== undefined && !isProtocolVariable(name)) env[name] = value;
  }
  Object.assign(env, opts.identityEnv ?? {});
  for (const [name, value] of Object.entries(opts.unit.service.env)) {
    if (!isProtocolVariable(name)) env[name] = value;
  }
  Object.assign(env, listenEnv([...opts.sockets.map((s) => s.spec.name), ...(opts.extraFds ?? []).map((p) => p.name)]));
  Object.assign(env, opts.extraEnv);
  env.LAUNCHER_UNIT = opts.unit.name;
  env.LAUNCHER_INSTANCE = String(opts.instance);
  if (opts.notifySocket !== undefined) env.NOTIFY_SOCKET = opts.notifySocket;
  if (opts.unit.service.watchdogMs > 0) env.WATCHDOG_USEC = String(opts.unit.service.watchdogMs * 1000);
  return env;
}

/** The variables the exec shim must set to the service's own pid, in order. */
export function pidVariables(unit: Unit, sockets: readonly BoundSocket[], extraFds: readonly PassedFd[] = []): string[] {
  const names = listenPidVariables(sockets.length + extraFds.length);
  if (unit.service.watchdogMs > 0) names.push('WATCHDOG_PID');
  return names;
}
