// socket-launcher/service in this process: every notify.* call's exact datagram on a
// real notify socket, the no-op without NOTIFY_SOCKET, argument checks, and the
// LISTEN_*/WATCHDOG_* parsing rules that need no inherited fds.
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listener, listeners, notify, watchdogInterval } from '../../src/service/index.js';
import { openNotifySocket } from '../../src/supervisor/notify.js';
import type { NotifyMessage } from '../../src/supervisor/contract.js';
import { stopFdWatcher } from '../../src/sys/poll.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const savedNotifySocket = process.env.NOTIFY_SOCKET;
const cleanups: (() => void)[] = [];
let messages: NotifyMessage[];

beforeEach(() => {
  messages = [];
  delete process.env.NOTIFY_SOCKET;
});
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
  if (savedNotifySocket === undefined) delete process.env.NOTIFY_SOCKET;
  else process.env.NOTIFY_SOCKET = savedNotifySocket;
});
afterAll(() => stopFdWatcher());

function listenOn(address: string): void {
  const socket = openNotifySocket(address, { onMessage: (m) => messages.push(m) });
  cleanups.push(() => socket.close());
  process.env.NOTIFY_SOCKET = socket.address;
}

async function nextFields(count: number): Promise<Record<string, string>[]> {
  await waitFor(() => messages.length >= count, { what: `${count} datagrams` });
  return messages.map((m) => Object.fromEntries(m.fields));
}

describe('notify', () => {
  it('returns false and sends nothing without NOTIFY_SOCKET', () => {
    expect(notify.ready()).toBe(false);
    expect(notify.status('x')).toBe(false);
    expect(notify.stopping()).toBe(false);
    expect(notify.reloading()).toBe(false);
    expect(notify.watchdog()).toBe(false);
    expect(notify.extendTimeout(10)).toBe(false);
    expect(notify.mainpid(1)).toBe(false);
    expect(notify.send({ READY: '1' })).toBe(false);
  });

  it('sends each helper as the sd_notify datagram systemd expects, from this pid', async () => {
    const tmp = makeTmpDir('launcher-service-');
    cleanups.push(tmp.cleanup);
    listenOn(path.join(tmp.dir, 'notify.sock'));
    expect(notify.ready()).toBe(true);
    notify.status('warming up: 50%');
    notify.stopping();
    notify.watchdog();
    notify.extendTimeout(1500);
    notify.mainpid(4242);
    notify.send({ READY: '1', STATUS: 'both' });
    const before = process.hrtime.bigint() / 1000n;
    notify.reloading();
    const fields = await nextFields(8);
    expect(fields.slice(0, 7)).toEqual([
      { READY: '1' },
      { STATUS: 'warming up: 50%' },
      { STOPPING: '1' },
      { WATCHDOG: '1' },
      { EXTEND_TIMEOUT_USEC: '1500000' },
      { MAINPID: '4242' },
      { READY: '1', STATUS: 'both' },
    ]);
    expect(fields[7]!.RELOADING).toBe('1');
    const monotonic = BigInt(fields[7]!.MONOTONIC_USEC!);
    expect(monotonic >= before && monotonic < before + 10_000_000n).toBe(true);
    expect(new Set(messages.map((m) => m.pid))).toEqual(new Set([process.pid]));
  });

  it('sends to an abstract NOTIFY_SOCKET', async () => {
    listenOn(`@launcher-service-test-${process.pid}-${Date.now()}`);
    expect(notify.ready()).toBe(true);
    expect(await nextFields(1)).toEqual([{ READY: '1' }]);
  });

  it('refuses fields that would change the message', () => {
    process.env.NOTIFY_SOCKET = '/nonexistent/never-used.sock';
    expect(() => notify.status('two\nlines')).toThrow(TypeError);
    expect(() => notify.send({ 'A=B': '1' })).toThrow(TypeError);
    expect(() => notify.send({ '': '1' })).toThrow(TypeError);
    expect(() => notify.send({ STATUS: 'nul\0' })).toThrow(TypeError);
    expect(() => notify.extendTimeout(-1)).toThrow(RangeError);
    expect(() => notify.mainpid(0)).toThrow(RangeError);
  });

  it('returns false when NOTIFY_SOCKET is set but its supervisor is gone (no file, or nobody listening)', async () => {
    const tmp = makeTmpDir('launcher-service-');
    cleanups.push(tmp.cleanup);
    process.env.NOTIFY_SOCKET = path.join(tmp.dir, 'gone.sock');
    expect(notify.ready()).toBe(false);
    // A socket file whose listener closed: ECONNREFUSED, the launcher was killed.
    const dgram = await import('node:net');
    const file = path.join(tmp.dir, 'closed.sock');
    const server = dgram.createServer().listen(file);
    await new Promise((r) => server.once('listening', r));
    process.env.NOTIFY_SOCKET = file; // a stream socket: sendto on it fails, but not as "gone"
    expect(() => notify.ready()).toThrowError(expect.objectContaining({ context: expect.objectContaining({ errnoName: expect.any(String) }) }));
    server.close();
    process.env.NOTIFY_SOCKET = '@launcher-test-nobody-' + process.pid;
    expect(notify.stopping()).toBe(false);
  });
});

describe('listeners (no inherited fds needed)', () => {
  it('is empty when LISTEN_PID or LISTEN_FDS is unset or LISTEN_PID is another process', () => {
    expect(listeners({})).toEqual([]);
    expect(listeners({ LISTEN_FDS: '2' })).toEqual([]);
    expect(listeners({ LISTEN_PID: String(process.pid) })).toEqual([]);
    expect(listeners({ LISTEN_PID: String(process.pid + 1), LISTEN_FDS: '2' })).toEqual([]);
  });

  it('throws on malformed values meant for this process', () => {
    const pid = String(process.pid);
    expect(() => listeners({ LISTEN_PID: 'abc', LISTEN_FDS: '1' })).toThrow(/LISTEN_PID/);
    expect(() => listeners({ LISTEN_PID: pid, LISTEN_FDS: 'two' })).toThrow(/LISTEN_FDS/);
    expect(() => listeners({ LISTEN_PID: pid, LISTEN_FDS: '2', LISTEN_FDNAMES: 'a:b:c' })).toThrow(/3 names for LISTEN_FDS=2/);
    // As sd_listen_fds (-EINVAL): a manager never passes "no fds" this way.
    expect(() => listeners({ LISTEN_PID: pid, LISTEN_FDS: '0' })).toThrowError(expect.objectContaining({ code: 'LAUNCHER_LISTEN_FDS' }));
  });

  it('listener() explains what is missing', () => {
    expect(() => listener('http', {})).toThrow(/no inherited socket named "http"; no sockets were passed/);
    expect(() => listener(undefined, {})).toThrow(/no inherited socket; no sockets were passed/);
    expect(() => listener('http', {})).toThrowError(expect.objectContaining({ code: 'LAUNCHER_NO_SOCKET', context: expect.objectContaining({ socket: 'http' }) }));
  });
});

describe('watchdogInterval', () => {
  it('reads WATCHDOG_USEC as milliseconds, only for this pid', () => {
    expect(watchdogInterval({})).toBeNull();
    expect(watchdogInterval({ WATCHDOG_USEC: '2500000' })).toBe(2500);
    expect(watchdogInterval({ WATCHDOG_USEC: '2500000', WATCHDOG_PID: String(process.pid) })).toBe(2500);
    expect(watchdogInterval({ WATCHDOG_USEC: '2500000', WATCHDOG_PID: String(process.pid + 1) })).toBeNull();
    expect(watchdogInterval({ WATCHDOG_USEC: '0' })).toBeNull();
    expect(watchdogInterval({ WATCHDOG_USEC: 'soon' })).toBeNull();
  });
});
