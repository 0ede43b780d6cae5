// BSD sockets on raw fds the event loop never sees, over the calls in libc.ts:
// addresses as SockAddr, options as ints, peer credentials as an object. Each call
// returns its result or -errno; callers decide what an errno means.
import * as libc from './libc.js';
import { encodeSockaddr, decodeSockaddr, SOCKADDR_STORAGE, type SockAddr } from './sockaddr.js';

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = libc.O_NONBLOCK;
export const SOCK_CLOEXEC = libc.O_CLOEXEC;

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
export const MSG_CTRUNC = 0x08;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CMSG_CLOEXEC = 0x40000000;
export const SCM_RIGHTS = 1;
export const SCM_CREDENTIALS = 2;

/** sizeof(struct ucred): pid, uid, gid. */
const UCRED_SIZE = 12;

/** socket(2): the new fd or -errno. Add SOCK_CLOEXEC unless the fd is meant to survive exec. */
export function socket(domain: number, type: number, protocol = 0): number {
  return libc.socket(domain, type, protocol);
}

/** setsockopt(2) of an int option: 0 or -errno. */
export function setsockoptInt(fd: number, level: number, name: number, value: number): number {
  const buf = Buffer.alloc(4);
  buf.writeInt32LE(value);
  return libc.setsockopt(fd, level, name, buf);
}

/** getsockopt(2) of an int option that is never negative (SO_TYPE, SO_DOMAIN, a flag): its value or -errno. */
export function getsockoptInt(fd: number, level: number, name: number): number {
  const buf = Buffer.alloc(4);
  const ret = libc.getsockopt(fd, level, name, buf);
  return ret < 0 ? ret : buf.readInt32LE(0);
}

/** bind(2): 0 or -errno (EADDRINUSE, EACCES, ...). */
export function bind(fd: number, addr: SockAddr): number {
  return libc.bind(fd, encodeSockaddr(addr));
}

/** listen(2): 0 or -errno. */
export function listen(fd: number, backlog: number): number {
  return libc.listen(fd, backlog);
}

/** connect(2): 0 or -errno (ECONNREFUSED is an answer, not a failure, for a stale-socket probe). */
export function connect(fd: number, addr: SockAddr): number {
  return libc.connect(fd, encodeSockaddr(addr));
}

/** The bound local address as text ("127.0.0.1:8080", "[::1]:8080", "/path", "@name"), or -errno. */
export function getsockname(fd: number): string | number {
  const buf = Buffer.alloc(SOCKADDR_STORAGE);
  const len = libc.getsockname(fd, buf);
  return len < 0 ? len : decodeSockaddr(buf, len);
}

/** accept4(2) without the peer address: the new fd or -errno (EAGAIN when nothing is pending). */
export function accept4(fd: number, flags = SOCK_CLOEXEC): number {
  const accepted = libc.accept4(fd, null, flags);
  return typeof accepted === 'number' ? accepted : accepted.fd;
}

/** accept4(2) and the peer's address as text ("127.0.0.1:5000", "[::1]:5000", "" for an unnamed unix peer), or -errno. */
export function acceptWithPeer(fd: number, flags = SOCK_CLOEXEC): { fd: number; peer: string } | number {
  const buf = Buffer.alloc(SOCKADDR_STORAGE);
  const accepted = libc.accept4(fd, buf, flags);
  if (typeof accepted === 'number') return accepted;
  const size = accepted.addressLength;
  return { fd: accepted.fd, peer: size > 2 ? decodeSockaddr(buf, size) : '' };
}

/** Credentials of the process on the other end of a connected unix socket (SO_PEERCRED), or -errno. */
export function peerCredentials(fd: number): { pid: number; uid: number; gid: number } | number {
  const buf = Buffer.alloc(UCRED_SIZE);
  const ret = libc.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, buf);
  return ret < 0 ? ret : { pid: buf.readInt32LE(0), uid: buf.readUInt32LE(4), gid: buf.readUInt32LE(8) };
}
