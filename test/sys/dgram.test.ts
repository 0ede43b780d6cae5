// recvWithCredentials / sendDatagram on real AF_UNIX datagram sockets: credentials,
// truncation, EAGAIN, fd passing (CLOEXEC on arrival) and abstract addresses.
import { closeSync, openSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { close, getFdFlags, FD_CLOEXEC } from '../../src/sys/libc.js';
import { AF_UNIX } from '../../src/sys/sockaddr.js';
import { bind, socket, setsockoptInt, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOL_SOCKET, SO_PASSCRED } from '../../src/sys/socket.js';
import { recvWithCredentials as recvOrErrno, sendDatagram, unixAddress } from '../../src/sys/dgram.js';
import { E } from '../../src/sys/errno.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { must, ok } from '../helpers/sys.js';

/** One datagram, or null when nothing is queued (-EAGAIN); any other errno fails the test. */
function recvWithCredentials(fd: number, maxBytes: number) {
  const got = recvOrErrno(fd, maxBytes);
  return got === -E.EAGAIN ? null : ok(got, 'recvmsg');
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

/** A bound, non-blocking receiver with SO_PASSCRED (or without, when asked). */
function receiver(address: string, passcred = true): number {
  const fd = must(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK), 'socket');
  cleanups.push(() => close(fd));
  if (passcred) must(setsockoptInt(fd, SOL_SOCKET, SO_PASSCRED, 1), 'setsockopt');
  must(bind(fd, unixAddress(address)!), 'bind');
  return fd;
}

function tmpSocketPath(): string {
  const tmp = makeTmpDir('launcher-dgram-');
  cleanups.push(tmp.cleanup);
  return path.join(tmp.dir, 'r.sock');
}

describe('recvWithCredentials', () => {
  it('returns -EAGAIN when nothing is queued', () => {
    const fd = receiver(tmpSocketPath());
    expect(recvOrErrno(fd, 4096)).toBe(-E.EAGAIN);
  });

  it('reports the payload and the sender pid/uid/gid', () => {
    const address = tmpSocketPath();
    const fd = receiver(address);
    sendDatagram(address, Buffer.from('READY=1\nSTATUS=up'));
    const got = recvWithCredentials(fd, 4096);
    expect(got).not.toBeNull();
    expect(got!.data.toString()).toBe('READY=1\nSTATUS=up');
    expect(got!.truncated).toBe(false);
    expect(got!.pid).toBe(process.pid);
    expect(got!.uid).toBe(process.getuid!());
    expect(got!.gid).toBe(process.getgid!());
    expect(got!.fds).toEqual([]);
    expect(recvWithCredentials(fd, 4096)).toBeNull();
  });

  it('has no credentials when SO_PASSCRED is off', () => {
    const address = tmpSocketPath();
    const fd = receiver(address, false);
    sendDatagram(address, Buffer.from('x'));
    const got = recvWithCredentials(fd, 64);
    expect(got!.pid).toBe(0);
    expect(got!.data.toString()).toBe('x');
  });

  it('flags an oversized datagram as truncated and keeps only maxBytes', () => {
    const address = tmpSocketPath();
    const fd = receiver(address);
    sendDatagram(address, Buffer.alloc(5000, 'a'));
    sendDatagram(address, Buffer.alloc(4096, 'b'));
    const big = recvWithCredentials(fd, 4096)!;
    expect(big.truncated).toBe(true);
    expect(big.data.length).toBe(4096);
    const exact = recvWithCredentials(fd, 4096)!;
    expect(exact.truncated).toBe(false);
    expect(exact.data.length).toBe(4096);
  });

  it('receives an empty datagram', () => {
    const address = tmpSocketPath();
    const fd = receiver(address);
    sendDatagram(address, Buffer.alloc(0));
    const got = recvWithCredentials(fd, 16)!;
    expect(got.data.length).toBe(0);
    expect(got.pid).toBe(process.pid);
  });

  it('receives passed fds as new CLOEXEC fds to the same file', () => {
    const address = tmpSocketPath();
    const fd = receiver(address);
    const file = path.join(path.dirname(address), 'payload.txt');
    writeFileSync(file, 'hello');
    const a = openSync(file, 'r');
    const b = openSync(file, 'r');
    cleanups.push(() => {
      closeSync(a);
      closeSync(b);
    });
    sendDatagram(address, Buffer.from('BARRIER=1'), { fds: [a, b] });
    const got = recvWithCredentials(fd, 4096)!;
    cleanups.push(() => got.fds.forEach((x) => close(x)));
    expect(got.data.toString()).toBe('BARRIER=1');
    expect(got.fds).toHaveLength(2);
    expect(got.controlTruncated).toBe(false);
    for (const received of got.fds) {
      expect([a, b]).not.toContain(received);
      expect(readlinkSync(`/proc/self/fd/${received}`)).toBe(file);
      expect(getFdFlags(received) & FD_CLOEXEC).toBe(FD_CLOEXEC);
    }
    expect(got.pid).toBe(process.pid);
  });

  it('works with an abstract address', () => {
    const address = `@launcher-dgram-test-${process.pid}-${Date.now()}`;
    const fd = receiver(address);
    sendDatagram(address, Buffer.from('WATCHDOG=1'));
    expect(recvWithCredentials(fd, 4096)!.data.toString()).toBe('WATCHDOG=1');
  });
});

describe('sendDatagram', () => {
  it('returns 0 once sent, -errno when nobody listens (as sd_notify)', () => {
    const address = tmpSocketPath();
    expect(sendDatagram(address, Buffer.from('READY=1'))).toBe(-E.ENOENT);
    receiver(address);
    expect(sendDatagram(address, Buffer.from('READY=1'))).toBe(0);
  });

  it('refuses an address that is neither absolute nor abstract with -EINVAL', () => {
    expect(unixAddress('relative.sock')).toBeUndefined();
    expect(sendDatagram('relative.sock', Buffer.from('x'))).toBe(-E.EINVAL);
  });
});
