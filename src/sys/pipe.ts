// Pipes and non-blocking writes through koffi: real pipes for services' stdout and
// stderr (libuv's 'pipe' stdio is a socketpair, which /dev/stdout cannot open), and
// writes to the launcher's own stdout that never block the event loop.
import { libc, check, orErrno, O_CLOEXEC, O_NONBLOCK } from './libc.js';

const closeFn = libc.func('int close(int fd)');

const pipe2Fn = libc.func('int pipe2(_Out_ int *fds, int flags)');
const openFn = libc.func('int open(const char *path, int flags, int mode)');
const sendFn = libc.func('long send(int fd, const void *buf, unsigned long len, int flags)');
const dup3Fn = libc.func('int dup3(int oldfd, int newfd, int flags)');

const O_WRONLY = 0o1;
const O_RDWR = 0o2;
const O_NOCTTY = 0o400;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;

/** pipe2(O_CLOEXEC): `[readEnd, writeEnd]`; throws LAUNCHER_SYSCALL. */
export function pipeCloexec(): [number, number] {
  const fds = [0, 0];
  check(pipe2Fn(fds, O_CLOEXEC), 'pipe2');
  return [fds[0] as number, fds[1] as number];
}

/**
 * Opens `/proc/self/fd/<fd>` write-only, non-blocking and close-on-exec: for a pipe,
 * FIFO or terminal this is a new open file description on the same object, so
 * O_NONBLOCK is ours alone (setting it on fd 1 itself would also change it for the
 * shell or whoever shares that description). Returns the new fd or -errno
 * (ENXIO for a socket, which has no such path).
 */
export function reopenNonBlocking(fd: number): number {
  return orErrno(openFn(`/proc/self/fd/${fd}`, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0));
}

/** send(MSG_DONTWAIT | MSG_NOSIGNAL) of a whole buffer to a socket: bytes sent or -errno. */
export function sendNonBlocking(fd: number, buf: Buffer): number {
  return orErrno(Number(sendFn(fd, buf, buf.length, MSG_DONTWAIT | MSG_NOSIGNAL)));
}

/**
 * Points each of `fds` at /dev/null (dup3 over it), so that nothing writes to what
 * they were any more (a broken pipe, a hung-up terminal) and Node's exit-time
 * terminal reset, which asserts on a hung-up terminal, sees a reopened fd and skips
 * it. Returns the fds replaced; never throws.
 */
export function retireToDevNull(fds: readonly number[]): number[] {
  const nul = orErrno(openFn('/dev/null', O_RDWR | O_CLOEXEC, 0));
  if (nul < 0) return [];
  const done = fds.filter((fd) => orErrno(dup3Fn(nul, fd, 0)) >= 0);
  if (!fds.includes(nul)) orErrno(closeFn(nul));
  return done;
}
