// The native boundary: loads libc through koffi and turns `-1 + errno` into a
// LauncherError with `code`, `errno` and `syscall`. Every other file in src/sys/
// declares its functions through `libc` and reports failures through `check`.
// Nothing here holds policy; callers decide what a failure means.
import { constants as osConstants } from 'node:os';
import koffi from 'koffi';
import { LauncherError, type ErrorCode, type ErrorContext } from '../errors.js';

/** The C library, loaded once. Linux/glibc or musl both export these names. */
export const libc = koffi.load(process.platform === 'linux' ? 'libc.so.6' : 'libc.so');

/** errno of the last native call on this thread; read it right after the call. */
export function lastErrno(): number {
  return koffi.errno();
}

const errnoNames = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, value]) => [value, name]),
);

/** `EADDRINUSE` for 98, or `errno 123` for a number Node does not name. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** A LauncherError for a failed syscall. */
export function sysError(
  syscall: string,
  errno: number,
  context: ErrorContext = {},
  code: ErrorCode = 'LAUNCHER_SYSCALL',
): LauncherError {
  const name = errnoName(errno);
  return new LauncherError(code, `${syscall}: ${name}`, { ...context, syscall, errno, errnoName: name });
}

/**
 * Returns `ret` when the call succeeded (>= 0); otherwise throws a sysError with
 * the errno the call left behind.
 */
export function check(ret: number, syscall: string, context: ErrorContext = {}, code?: ErrorCode): number {
  if (ret >= 0) return ret;
  throw sysError(syscall, lastErrno(), context, code);
}

/** Like check, but returns `-errno` instead of throwing (for expected failures). */
export function orErrno(ret: number): number {
  return ret >= 0 ? ret : -lastErrno();
}

/** errno values the launcher tests for by name. */
export const E = osConstants.errno;

const closeFn = libc.func('int close(int fd)');
const fcntlInt = libc.func('int fcntl(int fd, int cmd, int arg)');
const writeFn = libc.func('long write(int fd, const void *buf, unsigned long count)');
const readFn = libc.func('long read(int fd, _Out_ void *buf, unsigned long count)');
const ioctlIntOut = libc.func('int ioctl(int fd, unsigned long request, _Out_ int *value)');

/** ioctl FIONREAD: bytes queued for reading. */
const FIONREAD = 0x541b;

export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;

/** close(2); EINTR and EBADF are not reported (the fd is gone either way). */
export function close(fd: number): void {
  if (closeFn(fd) < 0) {
    const errno = lastErrno();
    if (errno !== E.EINTR && errno !== E.EBADF) throw sysError('close', errno, { fd });
  }
}

export function getFdFlags(fd: number): number {
  return check(fcntlInt(fd, F_GETFD, 0), 'fcntl(F_GETFD)', { fd });
}

export function setCloexec(fd: number, on: boolean): void {
  const flags = getFdFlags(fd);
  const next = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
  if (next !== flags) check(fcntlInt(fd, F_SETFD, next), 'fcntl(F_SETFD)', { fd });
}

export function getStatusFlags(fd: number): number {
  return check(fcntlInt(fd, F_GETFL, 0), 'fcntl(F_GETFL)', { fd });
}

export function setNonBlocking(fd: number, on: boolean): void {
  const flags = getStatusFlags(fd);
  const next = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (next !== flags) check(fcntlInt(fd, F_SETFL, next), 'fcntl(F_SETFL)', { fd });
}

/** write(2) of a whole small buffer; returns bytes written or -errno. */
export function write(fd: number, buf: Buffer): number {
  return orErrno(Number(writeFn(fd, buf, buf.length)));
}

/** read(2) into buf; returns bytes read or -errno. */
export function read(fd: number, buf: Buffer): number {
  return orErrno(Number(readFn(fd, buf, buf.length)));
}

/** Bytes waiting to be read on a socket or pipe (ioctl FIONREAD), or -errno (ENOTTY for other kinds of fd). */
export function unreadBytes(fd: number): number {
  const out = [0];
  const ret = orErrno(ioctlIntOut(fd, FIONREAD, out));
  return ret < 0 ? ret : (out[0] ?? 0);
}
