// BSD socket calls through koffi: create, options, bind, listen, accept,
// connect and peer credentials on raw fds the event loop never sees. Thin and
// policy-free: callers decide what an errno means.
import type { ErrorContext } from '../errors.js';
import { libc, check, orErrno } from './libc.js';
import { encodeSockaddr, decodeSockaddr, SOCKADDR_STORAGE, type SockAddr } from './sockaddr.js';

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;

export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_TYPE = 3;
export const SO_KEEPALIVE = 9;
export const SO_REUSEPORT = 15;
export const SO_PASSCRED = 16;
export const SO_PEERCRED = 17;
export const SO_ACCEPTCONN = 30;
export const SO_DOMAIN = 39;
export const IPPROTO_TCP = 6;
export const TCP_NODELAY = 1;
export const IPPROTO_IPV6 = 41;
export const IPV6_V6ONLY = 26;

const socketFn = libc.func('int socket(int domain, int type, int protocol)');
const setsockoptFn = libc.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)');
const getsockoptFn = libc.func('int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *len)');
const bindFn = libc.func('int bind(int fd, const void *addr, uint32_t len)');
const listenFn = libc.func('int listen(int fd, int backlog)');
const connectFn = libc.func('int connect(int fd, const void *addr, uint32_t len)');
const getsocknameFn = libc.func('int getsockname(int fd, _Out_ void *addr, _Inout_ uint32_t *len)');
const accept4Fn = libc.func('int accept4(int fd, void *addr, void *len, int flags)');
const accept4PeerFn = libc.func('int accept4(int fd, _Out_ void *addr, _Inout_ uint32_t *len, int flags)');

/** socket(2); always add SOCK_CLOEXEC yourself unless the fd is meant to be inherited by exec. */
export function socket(domain: number, type: number, protocol = 0, context: ErrorContext = {}): number {
  return check(socketFn(domain, type, protocol), 'socket', context);
}

export function setsockoptInt(fd: number, level: number, name: number, value: number, context: ErrorContext = {}): void {
  const buf = Buffer.alloc(4);
  buf.writeInt32LE(value);
  check(setsockoptFn(fd, level, name, buf, 4), 'setsockopt', { ...context, level, option: name });
}

export function getsockoptInt(fd: number, level: number, name: number): number {
  return getsockoptBuffer(fd, level, name, 4).readInt32LE(0);
}

/** getsockopt(2) into a buffer of `size` bytes (e.g. 12 for SO_PEERCRED's struct ucred). */
export function getsockoptBuffer(fd: number, level: number, name: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  const len = [size];
  check(getsockoptFn(fd, level, name, buf, len), 'getsockopt', { fd, level, option: name });
  return buf;
}

/** bind(2); throws with errno in the context (EADDRINUSE, EACCES, ...). */
export function bind(fd: number, addr: SockAddr, context: ErrorContext = {}): void {
  const buf = encodeSockaddr(addr);
  check(bindFn(fd, buf, buf.length), 'bind', context);
}

export function listen(fd: number, backlog: number, context: ErrorContext = {}): void {
  check(listenFn(fd, backlog), 'listen', context);
}

/** connect(2); returns 0 or -errno (ECONNREFUSED is an answer, not a failure, for a stale-socket probe). */
export function connect(fd: number, addr: SockAddr): number {
  const buf = encodeSockaddr(addr);
  return orErrno(connectFn(fd, buf, buf.length));
}

/** The bound local address as text: "127.0.0.1:8080", "[::1]:8080", "/path", "@name". */
export function getsockname(fd: number): string {
  const buf = Buffer.alloc(SOCKADDR_STORAGE);
  const len = [SOCKADDR_STORAGE];
  check(getsocknameFn(fd, buf, len), 'getsockname', { fd });
  return decodeSockaddr(buf, len[0] ?? 0);
}

/** accept4(2) without the peer address; returns the new fd or -errno (EAGAIN when nothing is pending). */
export function accept4(fd: number, flags = SOCK_CLOEXEC): number {
  return orErrno(accept4Fn(fd, null, null, flags));
}

/** accept4(2) that also returns the peer's address as text ("127.0.0.1:5000", "[::1]:5000", "" for an unnamed unix peer); -errno on failure. */
export function acceptWithPeer(fd: number, flags = SOCK_CLOEXEC): { fd: number; peer: string } | number {
  const buf = Buffer.alloc(SOCKADDR_STORAGE);
  const len = [SOCKADDR_STORAGE];
  const ret = orErrno(accept4PeerFn(fd, buf, len, flags));
  if (ret < 0) return ret;
  const size = len[0] ?? 0;
  return { fd: ret, peer: size > 2 ? decodeSockaddr(buf, size) : '' };
}

/** Credentials of the process on the other end of a connected unix socket (SO_PEERCRED). */
export function peerCredentials(fd: number): { pid: number; uid: number; gid: number } {
  const buf = getsockoptBuffer(fd, SOL_SOCKET, SO_PEERCRED, 12);
  return { pid: buf.readInt32LE(0), uid: buf.readUInt32LE(4), gid: buf.readUInt32LE(8) };
}
