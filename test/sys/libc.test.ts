// sys/libc: the native boundary's one convention — a call returns its result or
// -errno, never throws for a failed call — on real fds.
import { closeSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  E, FD_CLOEXEC, O_CLOEXEC, O_NONBLOCK, close, dup3, fcntl, F_DUPFD_CLOEXEC, getFdFlags, getStatusFlags, getpid, kcmp, KCMP_FILE,
  pipe2, read, requireLp64, setCloexec, setNonBlocking, unreadBytes, write,
} from '../../src/sys/libc.js';
import { ok } from '../helpers/sys.js';

describe('libc calls', () => {
  it('return -errno for a failed call instead of throwing', () => {
    expect(close(-1)).toBe(-E.EBADF);
    expect(getFdFlags(9999)).toBe(-E.EBADF);
    expect(setCloexec(9999, true)).toBe(-E.EBADF);
    expect(setNonBlocking(9999, true)).toBe(-E.EBADF);
    expect(write(9999, Buffer.from('x'))).toBe(-E.EBADF);
    expect(dup3(9999, 9998)).toBe(-E.EBADF);
  });

  it('pipe2, write, read, FIONREAD and the fd flags on a real pipe', () => {
    const [r, w] = ok(pipe2(O_CLOEXEC | O_NONBLOCK), 'pipe2');
    try {
      expect(getFdFlags(r) & FD_CLOEXEC).toBe(FD_CLOEXEC);
      expect(setCloexec(r, false)).toBe(0);
      expect(getFdFlags(r) & FD_CLOEXEC).toBe(0);
      expect(setCloexec(r, false)).toBe(0); // already so: no change, no error
      expect(read(r, Buffer.alloc(4))).toBe(-E.EAGAIN);
      expect(write(w, Buffer.from('hello'))).toBe(5);
      expect(unreadBytes(r)).toBe(5);
      expect(setNonBlocking(r, false)).toBe(0);
      expect(getStatusFlags(r) & O_NONBLOCK).toBe(0);
      const buf = Buffer.alloc(8);
      expect(read(r, buf)).toBe(5);
      expect(buf.subarray(0, 5).toString()).toBe('hello');
    } finally {
      close(r);
      close(w);
    }
  });

  it('kcmp tells a dup from another open of the same file', () => {
    const a = openSync('/dev/null', 'r');
    const b = openSync('/dev/null', 'r');
    const dup = fcntl(a, F_DUPFD_CLOEXEC, 0);
    try {
      expect(kcmp(process.pid, process.pid, KCMP_FILE, a, dup)).toBe(0);
      expect(kcmp(process.pid, process.pid, KCMP_FILE, a, b)).toBeGreaterThan(0);
    } finally {
      close(dup);
      closeSync(a);
      closeSync(b);
    }
  });

  it('getpid is the kernel\'s, and this is a platform the hand-laid structs fit', () => {
    expect(getpid()).toBe(process.pid);
    expect(() => requireLp64('test')).not.toThrow();
  });
});
