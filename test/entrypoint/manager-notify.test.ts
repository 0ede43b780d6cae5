// ManagerNotify: the launcher as a systemd Type=notify service. It sends one sd_notify
// datagram per call (READY=1 with MAINPID, RELOADING=1 with MONOTONIC_USEC, STATUS=,
// STOPPING=1) to $NOTIFY_SOCKET ("/path" or "@abstract"), and is a no-op without it.
// Checked against a real AF_UNIX datagram socket bound here: each message's fields and
// sender, newlines and NULs in a status, the abstract form, no NOTIFY_SOCKET, and a
// socket that is gone (sending must not throw; the doc promises one warning).
import { unlinkSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManagerNotify } from '../../src/entrypoint/manager-notify.js';
import { recvWithCredentials, unixAddress } from '../../src/sys/dgram.js';
import { E } from '../../src/sys/errno.js';
import { close } from '../../src/sys/libc.js';
import { AF_UNIX } from '../../src/sys/sockaddr.js';
import { bind, setsockoptInt, socket, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOL_SOCKET, SO_PASSCRED } from '../../src/sys/socket.js';
import { must, ok } from '../helpers/sys.js';
import { makeTmpDir } from '../helpers/tmp.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

/** A bound, non-blocking receiver with SO_PASSCRED at `address`; closed after the test. */
function receiver(address: string): { fd: number; close: () => void } {
  const fd = must(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK), 'socket');
  let open = true;
  const closeIt = (): void => {
    if (open) close(fd);
    open = false;
  };
  cleanups.push(closeIt);
  must(setsockoptInt(fd, SOL_SOCKET, SO_PASSCRED, 1), 'setsockopt');
  must(bind(fd, unixAddress(address)!), 'bind');
  return { fd, close: closeIt };
}

function socketPath(): string {
  const tmp = makeTmpDir('launcher-manager-notify-');
  cleanups.push(tmp.cleanup);
  return path.join(tmp.dir, 'notify.sock');
}

/** The next queued datagram (sendDatagram is synchronous, so it is there already) as raw text and sender pid. */
function next(fd: number): { text: string; pid: number } {
  const got = ok(recvWithCredentials(fd, 4096), 'recvmsg');
  return { text: got.data.toString(), pid: got.pid };
}

/** KEY=VALUE lines of a datagram, in order. */
function fields(text: string): [string, string][] {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
}

function notifier(env: NodeJS.ProcessEnv): { notify: ManagerNotify; warnings: string[] } {
  const warnings: string[] = [];
  return { notify: new ManagerNotify(env, (m) => warnings.push(m)), warnings };
}

describe('ManagerNotify', () => {
  it('sends READY=1 with STATUS and MAINPID, STOPPING=1 and a bare STATUS, one datagram each', () => {
    const address = socketPath();
    const r = receiver(address);
    const { notify, warnings } = notifier({ NOTIFY_SOCKET: address });
    expect(notify.enabled).toBe(true);

    notify.ready('3 units up');
    const ready = next(r.fd);
    expect(ready.pid).toBe(process.pid);
    expect(fields(ready.text)).toEqual([['READY', '1'], ['STATUS', '3 units up'], ['MAINPID', String(process.pid)]]);

    notify.status('reloading web');
    expect(fields(next(r.fd).text)).toEqual([['STATUS', 'reloading web']]);

    notify.stopping('stopping 3 units');
    expect(fields(next(r.fd).text)).toEqual([['STOPPING', '1'], ['STATUS', 'stopping 3 units']]);

    expect(recvWithCredentials(r.fd, 4096)).toBe(-E.EAGAIN);
    expect(warnings).toEqual([]);
  });

  it('sends RELOADING=1 with MONOTONIC_USEC read from the monotonic clock at the call', () => {
    const address = socketPath();
    const r = receiver(address);
    const { notify } = notifier({ NOTIFY_SOCKET: address });
    const before = process.hrtime.bigint() / 1000n;
    notify.reloading('reloading');
    const after = process.hrtime.bigint() / 1000n;
    const got = fields(next(r.fd).text);
    expect(got.map(([k]) => k)).toEqual(['RELOADING', 'STATUS', 'MONOTONIC_USEC']);
    expect(got[0]![1]).toBe('1');
    const usec = got[2]![1];
    expect(usec).toMatch(/^\d+$/);
    expect(BigInt(usec)).toBeGreaterThanOrEqual(before);
    expect(BigInt(usec)).toBeLessThanOrEqual(after);
  });

  it('turns newlines and NULs in a status into spaces, so a status cannot add fields', () => {
    const address = socketPath();
    const r = receiver(address);
    const { notify } = notifier({ NOTIFY_SOCKET: address });
    notify.status('line one\nREADY=1\0tail');
    expect(next(r.fd).text).toBe('STATUS=line one READY=1 tail\n');
  });

  it('sends to an abstract address ("@name")', () => {
    const address = `@launcher-manager-notify-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const r = receiver(address);
    const { notify, warnings } = notifier({ NOTIFY_SOCKET: address });
    notify.stopping('bye');
    expect(fields(next(r.fd).text)).toEqual([['STOPPING', '1'], ['STATUS', 'bye']]);
    expect(warnings).toEqual([]);
  });

  it('is disabled and silent without NOTIFY_SOCKET, or with it empty', () => {
    for (const env of [{}, { NOTIFY_SOCKET: '' }]) {
      const { notify, warnings } = notifier(env);
      expect(notify.enabled).toBe(false);
      expect(() => {
        notify.ready('up');
        notify.reloading('reloading');
        notify.status('s');
        notify.stopping('down');
      }).not.toThrow();
      expect(warnings).toEqual([]);
    }
  });

  it('goes on without throwing when the socket is gone', () => {
    const address = socketPath();
    const r = receiver(address);
    const { notify } = notifier({ NOTIFY_SOCKET: address });
    r.close(); // the file stays: ECONNREFUSED
    expect(() => notify.ready('up')).not.toThrow();
    unlinkSync(address); // no file: ENOENT
    expect(() => notify.stopping('down')).not.toThrow();
  });

  // "A send that fails is logged once": sendDatagram returns -errno (ENOENT here), never throws.
  it('warns once, naming the address, when the socket is gone', () => {
    const address = socketPath(); // never bound: ENOENT
    const { notify, warnings } = notifier({ NOTIFY_SOCKET: address });
    notify.ready('up');
    notify.stopping('down');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`NOTIFY_SOCKET=${address}`);
  });
});
