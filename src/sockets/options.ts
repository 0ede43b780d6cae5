// Socket options: those set once before bind, and those re-applied before every
// start because a previous child may have changed them on the shared socket.
import { orThrow } from '../errors.js';
import { setNonBlocking } from '../sys/libc.js';
import {
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPV6_V6ONLY,
  SOL_SOCKET,
  SO_KEEPALIVE,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_DOMAIN,
  getsockoptInt,
  TCP_NODELAY,
  listen,
  setsockoptInt,
} from '../sys/socket.js';
import { AF_INET6, AF_UNIX } from '../sys/sockaddr.js';
import type { SocketSpec } from '../units/types.js';
import { asBindFailure } from './bind-error.js';
import type { BoundSocket } from './bound-socket.js';
import { socketKey } from './key.js';
import { applySocketFileAccess } from './unix-file.js';

/** setsockopt of an int option; a failure throws LAUNCHER_SYSCALL naming the option, which asBindFailure words. */
function setOption(fd: number, level: number, option: number, value: number): void {
  orThrow(setsockoptInt(fd, level, option, value), 'setsockopt', { level, option });
}

/** The socket's domain (SO_DOMAIN); LAUNCHER_SYSCALL if it cannot be read. */
export function socketDomain(fd: number): number {
  return orThrow(getsockoptInt(fd, SOL_SOCKET, SO_DOMAIN), 'getsockopt', { fd, option: SO_DOMAIN });
}

/** Whether the socket type has a listen queue (datagram sockets are only bound). */
export function listens(spec: SocketSpec): boolean {
  return spec.type !== 'datagram';
}

/**
 * The options that must be set before bind(2) (or only make sense once): reuse
 * flags, IPV6_V6ONLY, keep-alive and TCP_NODELAY on the listener, which Linux copies
 * to every accepted connection. Throws LAUNCHER_SYSCALL; the caller words it (asBindFailure).
 */
export function applyPreBindOptions(fd: number, domain: number, spec: SocketSpec): void {
  const tcp = domain !== AF_UNIX && spec.type === 'stream';
  // Without SO_REUSEADDR a restart of the launcher would fail on connections in TIME_WAIT.
  if (tcp) setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (spec.reusePort) setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1);
  // Always explicit: the sysctl net.ipv6.bindv6only default must not decide dual-stack.
  if (domain === AF_INET6) setOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, spec.ipv6Only ? 1 : 0);
  applyListenerOptions(fd, domain, spec);
}

/**
 * keep_alive and no_delay, set (or cleared) on the listener; Linux copies them to
 * every accepted connection. Also used for inherited sockets and on reload.
 */
export function applyListenerOptions(fd: number, domain: number, spec: SocketSpec): void {
  if (spec.type !== 'datagram') setOption(fd, SOL_SOCKET, SO_KEEPALIVE, spec.keepAlive ? 1 : 0);
  if (domain !== AF_UNIX && spec.type === 'stream') setOption(fd, IPPROTO_TCP, TCP_NODELAY, spec.noDelay ? 1 : 0);
}

/** listen(backlog) for queued types, then O_NONBLOCK exactly as the spec says. Throws LAUNCHER_SYSCALL. */
export function applyStartOptions(fd: number, spec: SocketSpec): void {
  if (listens(spec)) orThrow(listen(fd, spec.backlog), 'listen');
  orThrow(setNonBlocking(fd, spec.nonBlocking), 'fcntl(F_SETFL)', { fd });
}

/**
 * Before every start (as systemd does): listen(fd, backlog) again for stream and
 * seqpacket sockets — a Node child's listen({fd}) silently lowers the backlog to 511 —
 * and set or clear O_NONBLOCK per spec, since the flag lives on the open file that the
 * launcher and every child share. Throws LAUNCHER_BIND naming the unit and socket.
 */
export function reapplyOptions(s: BoundSocket): void {
  try {
    applyStartOptions(s.fd, s.spec);
  } catch (error) {
    throw asBindFailure(s.unit, s.spec, error);
  }
}

/**
 * Moves an open socket to `spec` (same bindKey) without closing it: keep-alive and
 * TCP_NODELAY on the listener, backlog and O_NONBLOCK now, unix file mode and owner.
 * Returns the socket as described by `spec`. Throws LAUNCHER_BIND.
 */
export function retuneSocket(s: BoundSocket, unit: string, spec: SocketSpec): BoundSocket {
  const next: BoundSocket = { ...s, unit, spec, key: socketKey(spec) };
  try {
    applyListenerOptions(s.fd, socketDomain(s.fd), spec);
    applyStartOptions(s.fd, spec);
  } catch (error) {
    throw asBindFailure(unit, spec, error);
  }
  if (s.createdFile && (spec.mode !== s.spec.mode || spec.owner !== s.spec.owner || spec.group !== s.spec.group)) {
    applySocketFileAccess(unit, spec, s.createdFile.path);
  }
  return next;
}
