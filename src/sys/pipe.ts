// Pipes and non-blocking writes: real pipes for services' stdout and stderr
// (libuv's 'pipe' stdio is a socketpair, which /dev/stdout cannot open), and
// writes to the launcher's own stdout that never block the event loop. Each call
// returns its result or -errno.
import * as libc from './libc.js';
import { MSG_DONTWAIT, MSG_NOSIGNAL } from './socket.js';

/** pipe2(O_CLOEXEC): `[readEnd, writeEnd]` or -errno. */
export function pipeCloexec(): [number, number] | number {
  return libc.pipe2(libc.O_CLOEXEC);
}

/**
 * Opens `/proc/self/fd/<fd>` write-only, non-blocking and close-on-exec: for a pipe,
 * FIFO or terminal this is a new open file description on the same object, so
 * O_NONBLOCK is ours alone (setting it on fd 1 itself would also change it for the
 * shell or whoever shares that description). Returns the new fd or -errno
 * (ENXIO for a socket, which has no such path).
 */
export function reopenNonBlocking(fd: number): number {
  return libc.open(`/proc/self/fd/${fd}`, libc.O_WRONLY | libc.O_NONBLOCK | libc.O_CLOEXEC | libc.O_NOCTTY);
}

/** send(MSG_DONTWAIT | MSG_NOSIGNAL) of a whole buffer to a socket: bytes sent or -errno. */
export function sendNonBlocking(fd: number, buf: Buffer): number {
  return libc.send(fd, buf, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/**
 * Points each of `fds` at /dev/null (dup3 over it), so that nothing writes to what
 * they were any more (a broken pipe, a hung-up terminal) and Node's exit-time
 * terminal reset, which asserts on a hung-up terminal, sees a reopened fd and skips
 * it. Returns the fds replaced.
 */
export function retireToDevNull(fds: readonly number[]): number[] {
  const nul = libc.open('/dev/null', libc.O_RDWR | libc.O_CLOEXEC);
  if (nul < 0) return [];
  const done = fds.filter((fd) => libc.dup3(nul, fd) >= 0);
  if (!fds.includes(nul)) libc.close(nul);
  return done;
}
