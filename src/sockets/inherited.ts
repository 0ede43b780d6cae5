// Sockets the launcher itself inherited by socket activation (systemd, podman,
// systemd-socket-activate): parsed exactly as libsystemd's sd_listen_fds_with_names()
// does, then handed out by name to units that say `listen = "fd:NAME"`.
import { readlinkSync } from 'node:fs';
import { LauncherError, orThrow } from '../errors.js';
import { close, setCloexec } from '../sys/libc.js';
import { isFdOpen } from '../sys/fds.js';
import { LISTEN_VARIABLES, parseListenFds, type PassedListenFd } from './listen-fds.js';

/** One inherited fd and its LISTEN_FDNAMES entry ("unknown" when unnamed, like systemd). */
export type InheritedFd = PassedListenFd;

/** The outcome of reading LISTEN_* without touching any fd: what to take, and why not. */
export interface ListenEnv {
  readonly fds: readonly InheritedFd[];
  /** Non-fatal problems, each ending in ", ignoring" (systemd's wording). */
  readonly warnings: readonly string[];
}

/**
 * The launcher's reading of LISTEN_* (parseListenFds): a malformed value, or LISTEN_FDS
 * without LISTEN_PID, takes nothing and says so with a warning. Pure.
 */
export function parseListenEnv(env: NodeJS.ProcessEnv, pid: number): ListenEnv {
  const found = parseListenFds(env, pid);
  if (found.kind === 'passed') return { fds: found.fds, warnings: [] };
  const problem = found.kind === 'malformed' ? found.problem : found.stray;
  return { fds: [], warnings: problem === undefined ? [] : [`${problem}, ignoring`] };
}

/**
 * The launcher's inherited sockets. Each fd is taken at most once; a name may
 * repeat (several fds named "web"), and then `take` hands them out in fd order.
 * Ownership: a taken fd belongs to the taker; the rest belong to this object
 * until closeUnused().
 */
export class InheritedFds {
  private readonly untaken: InheritedFd[];
  /** Problems found while reading the environment, for the caller to log. */
  readonly warnings: readonly string[];
  /** Announced fds that are not sockets, by name: never taken, never closed (they may be Node's own). */
  private readonly refused: readonly RefusedFd[];

  constructor(fds: readonly InheritedFd[], warnings: readonly string[] = [], refused: readonly RefusedFd[] = []) {
    this.untaken = [...fds].sort((a, b) => a.fd - b.fd);
    this.warnings = warnings;
    this.refused = refused;
  }

  /**
   * The lowest untaken fd named `name`, now the caller's; undefined when none is left.
   * Throws LAUNCHER_USAGE (exit 2) when LISTEN_FDS announced an fd of that name that is not
   * a socket: the launcher was started wrongly, and binding anything else instead would hide it.
   */
  take(name: string): number | undefined {
    const index = this.untaken.findIndex((entry) => entry.name === name);
    const bogus = this.refused.find((entry) => entry.name === name);
    if (index < 0 && bogus) {
      throw new LauncherError('LAUNCHER_USAGE', `LISTEN_FDS passed fd ${bogus.fd} as "${name}", but fd ${bogus.fd} ${bogus.what}: not a socket`, {
        key: 'LISTEN_FDS', fd: bogus.fd, value: name, received: bogus.what,
      });
    }
    if (index < 0) return undefined;
    const [entry] = this.untaken.splice(index, 1);
    return entry?.fd;
  }

  /** Names of the fds not taken yet, in fd order (a repeated name repeats). */
  names(): string[] {
    return this.untaken.map((entry) => entry.name);
  }

  /** Closes every fd nobody took, calling `warn` once per fd with its number and name. */
  closeUnused(warn: (message: string) => void): void {
    for (const entry of this.untaken.splice(0)) {
      warn(`inherited socket fd ${entry.fd} (name "${entry.name}") is used by no unit, closing it`);
      close(entry.fd);
    }
  }
}

/** An announced fd that is not a socket, and what it really is. */
export interface RefusedFd extends InheritedFd {
  /** "is not open", "is a pipe", "is anon_inode:[eventpoll] …", "is the file /tmp/x". */
  readonly what: string;
}

/**
 * What fd `fd` of this process really is, when it is not a socket; null for a socket.
 * Read from /proc/self/fd, which names sockets "socket:[inode]".
 */
export function describeNonSocket(fd: number): string | null {
  if (!isFdOpen(fd)) return 'is not open';
  let target: string;
  try {
    target = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return 'cannot be inspected';
  }
  if (target.startsWith('socket:')) return null;
  if (target.startsWith('pipe:')) return 'is a pipe';
  if (target.startsWith('anon_inode:')) {
    // Nothing was open there when the launcher started, so its own runtime (libuv) took the number.
    return `is ${target}, not passed by the caller (nothing was open at fd ${fd} when the launcher started)`;
  }
  return target.startsWith('/') ? `is the file ${target}` : `is ${target}`;
}

/**
 * Takes the sockets passed to process `pid` by LISTEN_FDS: marks them
 * close-on-exec (so they reach a service only when passed on purpose) and deletes
 * LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES from `env` whatever their values were,
 * as sd_listen_fds(unset_environment=1) does, so services never see stale ones.
 * An announced fd that is not an open socket (not open, a file, a pipe, or one the
 * launcher's runtime opened itself because nothing was passed there) is left alone —
 * never marked, taken or closed — with a warning; a unit that asks for it by name then
 * fails with LAUNCHER_USAGE (see InheritedFds.take). Call it once, early.
 */
export function takeInheritedFds(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): InheritedFds {
  const parsed = parseListenEnv(env, pid);
  for (const name of LISTEN_VARIABLES) delete env[name];
  const warnings = [...parsed.warnings];
  const open: InheritedFd[] = [];
  const refused: RefusedFd[] = [];
  for (const entry of parsed.fds) {
    const what = describeNonSocket(entry.fd);
    if (what !== null) {
      warnings.push(`LISTEN_FDS names fd ${entry.fd} ("${entry.name}") but it ${what}, not a socket; leaving it alone`);
      refused.push({ ...entry, what });
      continue;
    }
    orThrow(setCloexec(entry.fd, true), 'fcntl(F_SETFD)', { fd: entry.fd });
    open.push(entry);
  }
  return new InheritedFds(open, warnings, refused);
}
