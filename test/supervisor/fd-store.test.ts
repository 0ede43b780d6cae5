// The fd store in process: real fds passed by python3-systemd and by the
// launcher's own sender over a real notify socket, kept or closed per
// FDSTORE=1 / FDNAME / FDSTOREREMOVE / fd_store_max, and never leaked.
import { openSync, readlinkSync } from 'node:fs';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FdStore } from '../../src/supervisor/fd-store.js';
import { applyFdStoreMessage } from '../../src/supervisor/fd-store-message.js';
import type { NotifyMessage } from '../../src/supervisor/contract.js';
import { openNotifySocket } from '../../src/supervisor/notify.js';
import { sendDatagram } from '../../src/sys/dgram.js';
import { F_DUPFD_CLOEXEC, close, fcntl } from '../../src/sys/libc.js';
import { isFdOpen, listOpenFds, sameOpenFile } from '../../src/sys/fds.js';
import { stopFdWatcher } from '../../src/sys/poll.js';
import { waitFor } from '../helpers/wait.js';
import { requirePeers } from '../helpers/peers.js';
import { ok } from '../helpers/sys.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).reverse().forEach((fn) => fn()));
afterAll(() => stopFdWatcher());

function message(fields: Record<string, string>, fds: number[]): NotifyMessage {
  return { pid: process.pid, uid: 0, fields: new Map(Object.entries(fields)), fds };
}

/** Fresh open files (each its own open file description). */
function devNulls(n: number): number[] {
  return Array.from({ length: n }, () => openSync('/dev/null', 'r'));
}

/** fcntl(F_DUPFD_CLOEXEC) through the launcher's libc binding. */
function dupOf(fd: number): number {
  return fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

function receiver(): { address: string; messages: NotifyMessage[] } {
  const messages: NotifyMessage[] = [];
  const address = `@launcher-fdstore-test-${process.pid}-${Date.now()}-${Math.random()}`;
  const socket = openNotifySocket(address, { onMessage: (m) => messages.push(m) });
  cleanups.push(() => socket.close());
  return { address, messages };
}

describe('FdStore and applyFdStoreMessage', () => {
  it('keeps up to fd_store_max, closes the extra fds, and says so', () => {
    const store = new FdStore();
    cleanups.push(() => store.clear());
    const fds = devNulls(3);
    const outcome = applyFdStoreMessage(message({ FDSTORE: '1', FDNAME: 'db' }, fds), store, 2);
    expect(store.entries()).toEqual([
      { fd: fds[0], name: 'db', poll: true },
      { fd: fds[1], name: 'db', poll: true },
    ]);
    expect(stillDevNull(fds[2]!)).toBe(false);
    expect(outcome.warnings).toEqual(['fd store full (fd_store_max = 2): closed 1 extra fd(s) named "db", ignoring']);
  });

  it('recognises a second copy of a stored open file and closes it (systemd same_fd)', () => {
    const store = new FdStore();
    cleanups.push(() => store.clear());
    const [fd] = devNulls(1);
    store.add([fd!], 'a', true, 4);
    const copy = dupOf(fd!); // what a restarted service re-stores: the same open file
    const other = openSync('/dev/null', 'r'); // the same inode, but another open file: kept
    const outcome = store.add([copy, other], 'a', true, 4);
    expect(outcome).toEqual({ kept: 1, duplicates: 1, overflow: 0 });
    // Closed: its number is free, or (another thread of this process opened a file meanwhile) no longer our file.
    expect(isFdOpen(copy) && sameOpenFile(copy, fd!)).toBe(false);
    expect(store.size).toBe(2);
  });

  it('FDSTOREREMOVE=1 closes the named fds and any passed with it; FDPOLL=0 turns hang-up polling off', () => {
    const store = new FdStore();
    cleanups.push(() => store.clear());
    const kept = devNulls(2);
    applyFdStoreMessage(message({ FDSTORE: '1', FDNAME: 'x', FDPOLL: '0' }, [kept[0]!]), store, 8);
    applyFdStoreMessage(message({ FDSTORE: '1' }, [kept[1]!]), store, 8);
    expect(store.entries().map((e) => [e.name, e.poll])).toEqual([['x', false], ['stored', true]]);
    const passed = devNulls(1);
    applyFdStoreMessage(message({ FDSTOREREMOVE: '1', FDNAME: 'x' }, passed), store, 8);
    expect(store.entries().map((e) => e.name)).toEqual(['stored']);
    expect([kept[0], passed[0]].map((fd) => stillDevNull(fd!))).toEqual([false, false]);
  });

  it('closes fds passed without FDSTORE=1, with a bad FDNAME, or with fd_store_max = 0', () => {
    const store = new FdStore();
    const fds = devNulls(3);
    applyFdStoreMessage(message({ BARRIER: '1' }, [fds[0]!]), store, 4);
    const bad = applyFdStoreMessage(message({ FDSTORE: '1', FDNAME: 'a:b' }, [fds[1]!]), store, 4);
    const off = applyFdStoreMessage(message({ FDSTORE: '1' }, [fds[2]!]), undefined, 0);
    expect(fds.map(stillDevNull)).toEqual([false, false, false]);
    expect(store.size).toBe(0);
    expect(bad.warnings[0]).toMatch(/FDNAME="a:b" must not contain ":"/);
    expect(off.warnings[0]).toMatch(/fd_store_max is 0/);
  });
});

describe('fds over a real notify socket', () => {
  it('python3-systemd notify(FDSTORE=1, fds=[...]) reaches the handler with the fds, which the store keeps', async (context) => {
    requirePeers(context, 'python3-systemd');
    const { address, messages } = receiver();
    const r = await execa('/usr/bin/python3', ['-c', [
      'import os; from systemd.daemon import notify',
      'a, b = os.pipe()',
      'print(notify("FDSTORE=1\\nFDNAME=pipe", fds=[a, b]))',
    ].join('\n')], { env: { NOTIFY_SOCKET: address } });
    expect(r.stdout.trim()).toBe('True');
    await waitFor(() => messages.length === 1, { what: 'the FDSTORE datagram' });
    const msg = messages[0]!;
    expect(msg.fds).toHaveLength(2);
    const store = new FdStore();
    cleanups.push(() => store.clear());
    applyFdStoreMessage(msg, store, 8);
    expect(store.entries().map((e) => e.name)).toEqual(['pipe', 'pipe']);
  });

  it('a refused datagram (over 4096 bytes) has its fds closed by the socket itself', async () => {
    const { address, messages } = receiver();
    const ignoredBefore = ok(listOpenFds());
    const [fd] = devNulls(1);
    sendDatagram(address, Buffer.alloc(5000, 'A'), { fds: [fd!] });
    close(fd!);
    await waitFor(() => JSON.stringify(ok(listOpenFds())) === JSON.stringify(ignoredBefore), { what: 'the refused fd to be closed' });
    expect(messages).toEqual([]);
  });
});

/**
 * Whether `fd` is still one of the /dev/null fds a test opened: closed means its number is
 * free, or reused meanwhile by another thread of this process for some other file.
 */
function stillDevNull(fd: number): boolean {
  return isFdOpen(fd) && readlinkSync(`/proc/self/fd/${fd}`) === '/dev/null';
}
