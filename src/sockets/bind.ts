// Binding a unit's sockets: socket/setsockopt/bind/listen on raw CLOEXEC fds the
// event loop never sees (the launcher never accepts), for every `listen` form.
import { rmSync } from 'node:fs';
import { isLauncherError } from '../errors.js';
import { E, close, setCloexec } from '../sys/libc.js';
import { SOCK_CLOEXEC, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM, SOL_SOCKET, SO_TYPE, bind, getsockname, getsockoptInt, socket } from '../sys/socket.js';
import { AF_INET, AF_INET6, AF_UNIX, type SockAddr } from '../sys/sockaddr.js';
import type { InheritedFds } from './inherited.js';
import type { SocketSpec, SocketType, Unit } from '../units/types.js';
import { asBindFailure, bindFailure, syscallFailure } from './bind-error.js';
import type { BoundSocket, CreatedSocketFile } from './bound-socket.js';
import { socketKey } from './key.js';
import { applyListenerOptions, applyPreBindOptions, applyStartOptions, socketDomain } from './options.js';
import { applySocketFileAccess, clearStaleSocketFile, recordSocketFile, removeSocketFile, unixBindHint } from './unix-file.js';

export type { BoundSocket } from './bound-socket.js';

/** Where the launcher takes `fd:NAME` sockets from. */
export interface BindOptions {
  readonly inherited?: InheritedFds;
  /**
   * A socket taken over from a crashed launcher's services (same open socket, already
   * bound and listening), by the spec it must serve; undefined to bind a new one.
   */
  readonly takeOver?: (spec: SocketSpec) => number | undefined;
}

const SOCK_TYPES: Record<SocketType, number> = { stream: SOCK_STREAM, datagram: SOCK_DGRAM, seqpacket: SOCK_SEQPACKET };

/** A socket to create: its domain and the address to bind. */
interface Plan {
  readonly domain: number;
  readonly address: SockAddr;
}

function planFor(spec: SocketSpec): Plan[] {
  const listen = spec.listen;
  switch (listen.kind) {
    case 'inet':
      if (listen.family === 4) return [{ domain: AF_INET, address: { family: 'inet4', host: listen.host ?? '0.0.0.0', port: listen.port } }];
      if (listen.family === 6) return [{ domain: AF_INET6, address: { family: 'inet6', host: listen.host ?? '::', port: listen.port } }];
      // All addresses: [::] dual-stack, else (a kernel without IPv6) 0.0.0.0.
      return [
        { domain: AF_INET6, address: { family: 'inet6', host: '::', port: listen.port } },
        { domain: AF_INET, address: { family: 'inet4', host: '0.0.0.0', port: listen.port } },
      ];
    case 'unix':
      return [{ domain: AF_UNIX, address: { family: 'unix', path: listen.path } }];
    case 'abstract':
      return [{ domain: AF_UNIX, address: { family: 'abstract', name: listen.name } }];
    case 'fd':
      return [];
  }
}

/** errnos that mean "this kernel has no IPv6", so the IPv4 fallback applies. */
const NO_IPV6 = new Set([E.EAFNOSUPPORT, E.EADDRNOTAVAIL, E.EPROTONOSUPPORT]);

/** socket + options + bind + listen for one plan; the fd is closed on any failure. */
function createAndBind(unit: string, spec: SocketSpec, plan: Plan): number {
  const fd = socket(plan.domain, SOCK_TYPES[spec.type] | SOCK_CLOEXEC);
  if (fd < 0) throw syscallFailure(unit, spec, 'socket', -fd);
  let boundFile: string | undefined;
  try {
    applyPreBindOptions(fd, plan.domain, spec);
    const bound = bind(fd, plan.address);
    if (bound < 0) {
      const hint = plan.address.family === 'unix' ? unixBindHint(plan.address.path, -bound) : '';
      throw syscallFailure(unit, spec, 'bind', -bound, hint);
    }
    if (plan.address.family === 'unix') boundFile = plan.address.path;
    applyStartOptions(fd, spec);
    return fd;
  } catch (error) {
    close(fd);
    // bind made the file (the stale one was cleared first): do not leave it behind.
    if (boundFile) rmSync(boundFile, { force: true });
    throw error;
  }
}

function bindInet(unit: string, spec: SocketSpec): number {
  const [first, fallback] = planFor(spec);
  if (!first) throw bindFailure(unit, spec, 'no address to bind');
  try {
    return createAndBind(unit, spec, first);
  } catch (error) {
    const errno = isLauncherError(error) ? error.context.errno : undefined;
    if (fallback && typeof errno === 'number' && NO_IPV6.has(errno)) return createAndBind(unit, spec, fallback);
    throw error;
  }
}

function takeInherited(unit: string, spec: SocketSpec, name: string, inherited: InheritedFds | undefined): number {
  const fd = inherited?.take(name);
  if (fd === undefined) {
    const offered = inherited?.names() ?? [];
    const list = offered.length > 0 ? `inherited names left: ${offered.join(', ')}` : 'the launcher inherited no sockets by LISTEN_FDS';
    throw bindFailure(unit, spec, `no inherited socket named "${name}" (${list})`);
  }
  try {
    const actual = getsockoptInt(fd, SOL_SOCKET, SO_TYPE);
    if (actual < 0) throw syscallFailure(unit, spec, 'getsockopt(SO_TYPE)', -actual);
    const expected = SOCK_TYPES[spec.type];
    if (actual !== expected) {
      const actualName = Object.entries(SOCK_TYPES).find(([, v]) => v === actual)?.[0] ?? `type ${actual}`;
      throw bindFailure(unit, spec, `the inherited socket is ${actualName}, the unit says ${spec.type}`, { fd });
    }
    const cloexec = setCloexec(fd, true);
    if (cloexec < 0) throw syscallFailure(unit, spec, 'fcntl(F_SETFD)', -cloexec);
    applyListenerOptions(fd, socketDomain(fd), spec);
    applyStartOptions(fd, spec);
    return fd;
  } catch (error) {
    // Taken means ours: an unusable inherited fd is closed, not handed back.
    close(fd);
    throw error;
  }
}

/**
 * Creates, binds and (for stream/seqpacket) listens on the socket `spec` describes, with
 * SOCK_CLOEXEC, the spec's options and O_NONBLOCK per non_blocking. `fd:NAME` takes the
 * launcher's own inherited socket from `opts.inherited` (its SO_TYPE must match).
 * A unix path: a stale socket file is replaced, a live one or a non-socket is an error; the
 * parent folder must exist. Throws LAUNCHER_BIND naming unit, socket and address, with
 * nothing left open or created.
 */
export function bindSocket(unit: string, spec: SocketSpec, opts: BindOptions = {}): BoundSocket {
  let fd = -1;
  let createdFile: CreatedSocketFile | undefined;
  try {
    const listen = spec.listen;
    const taken = listen.kind === 'fd' ? undefined : opts.takeOver?.(spec);
    if (taken !== undefined) {
      fd = taken;
      const cloexec = setCloexec(fd, true);
      if (cloexec < 0) throw syscallFailure(unit, spec, 'fcntl(F_SETFD)', -cloexec);
      applyListenerOptions(fd, socketDomain(fd), spec);
      applyStartOptions(fd, spec);
      // The socket file is the one the old launcher created: ours to remove at the end now.
      if (listen.kind === 'unix') createdFile = recordSocketFile(unit, spec, listen.path);
    } else if (listen.kind === 'fd') {
      fd = takeInherited(unit, spec, listen.name, opts.inherited);
    } else if (listen.kind === 'inet') {
      fd = bindInet(unit, spec);
    } else {
      if (listen.kind === 'unix') clearStaleSocketFile(unit, spec, listen.path);
      const plan = planFor(spec)[0]!;
      fd = createAndBind(unit, spec, plan);
      if (listen.kind === 'unix') {
        createdFile = recordSocketFile(unit, spec, listen.path);
        applySocketFileAccess(unit, spec, listen.path);
      }
    }
    const local = getsockname(fd);
    if (typeof local === 'number') throw syscallFailure(unit, spec, 'getsockname', -local);
    return { fd, unit, spec, key: socketKey(spec), local, ...(createdFile ? { createdFile } : {}) };
  } catch (error) {
    if (fd >= 0 && createdFile) removeSocketFile(createdFile);
    if (fd >= 0) close(fd);
    throw asBindFailure(unit, spec, error);
  }
}

/**
 * Every socket of `unit`, in file order (fds 3, 4, ... for the child), or none: on the
 * first failure the ones already bound are closed (and their files removed) and the
 * error is thrown. Note that closing includes inherited `fd:` sockets taken so far.
 */
export function bindUnitSockets(unit: Unit, opts: BindOptions = {}): BoundSocket[] {
  const bound: BoundSocket[] = [];
  try {
    for (const spec of unit.sockets) bound.push(bindSocket(unit.name, spec, opts));
    return bound;
  } catch (error) {
    for (const s of bound) closeSocket(s);
    throw error;
  }
}

/**
 * Closes the fd and, for a unix socket file this launcher created, removes the file if
 * the path still is that same socket (compared by device and inode). Never throws for a
 * file that is already gone.
 */
export function closeSocket(s: BoundSocket): void {
  if (s.createdFile) removeSocketFile(s.createdFile);
  close(s.fd);
}
