// The notify socket against real senders: systemd-notify (which credits its
// parent and follows with a BARRIER=1 fd), python3-systemd, a foreign raw
// sender, oversize and NUL datagrams, a path and an abstract address, bursts.
import { existsSync, readlinkSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openNotifySocket, parseNotifyFields, type NotifySocket } from '../../src/supervisor/notify.js';
import type { NotifyMessage } from '../../src/supervisor/contract.js';
import { applyFdStoreMessage } from '../../src/supervisor/fd-store-message.js';
import { sendDatagram } from '../../src/sys/dgram.js';
import { listOpenFds } from '../../src/sys/fds.js';
import { stopFdWatcher } from '../../src/sys/poll.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { requirePeers } from '../helpers/peers.js';
import { must, ok } from '../helpers/sys.js';
import { close } from '../../src/sys/libc.js';
import { AF_UNIX } from '../../src/sys/sockaddr.js';
import { bind, socket, SOCK_CLOEXEC, SOCK_DGRAM } from '../../src/sys/socket.js';
import { E } from '../../src/sys/errno.js';

const PYTHON = '/usr/bin/python3';

interface Recorder {
  socket: NotifySocket;
  messages: NotifyMessage[];
  ignored: { reason: string; pid: number }[];
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});
afterAll(() => stopFdWatcher());

function tmpDir(): string {
  const tmp = makeTmpDir('launcher-notify-');
  cleanups.push(tmp.cleanup);
  return tmp.dir;
}

function record(address: string): Recorder {
  const messages: NotifyMessage[] = [];
  const ignored: { reason: string; pid: number }[] = [];
  const socket = openNotifySocket(address, {
    onMessage: (msg) => {
      messages.push(msg);
      applyFdStoreMessage(msg, undefined, 0); // what the launcher does with fds nobody stores: close them
    },
    onIgnored: (reason, pid) => ignored.push({ reason, pid }),
  });
  cleanups.push(() => socket.close());
  return { socket, messages, ignored };
}

function abstractName(tag: string): string {
  return `@launcher-notify-test-${tag}-${process.pid}-${Date.now()}`;
}

describe('openNotifySocket with real senders', () => {
  it('takes systemd-notify --ready --status from its parent shell and closes the BARRIER fd', async (context) => {
    requirePeers(context, 'systemd');
    const r = record(path.join(tmpDir(), 'notify.sock'));
    const fdsBefore = ok(listOpenFds());
    const started = Date.now();
    // systemd 252 run as root credits the datagram to its PARENT (here the
    // shell, whose pid we know), then sends BARRIER=1 with a pipe fd from its
    // own pid and waits until the receiver closes that fd.
    const shell = execa('/bin/sh', ['-c', 'systemd-notify --ready --status=hi; echo done'], {
      env: { NOTIFY_SOCKET: r.socket.address },
    });
    const { stdout } = await shell;
    expect(stdout).toBe('done');
    expect(Date.now() - started).toBeLessThan(3000); // an unclosed barrier fd holds it ~5 s
    await waitFor(() => r.messages.length >= 2, { what: 'READY and BARRIER datagrams' });
    const [ready, barrier] = r.messages;
    expect(ready!.pid).toBe(shell.pid);
    expect(ready!.uid).toBe(0);
    expect(Object.fromEntries(ready!.fields)).toEqual({ READY: '1', STATUS: 'hi' });
    expect(Object.fromEntries(barrier!.fields)).toEqual({ BARRIER: '1' });
    expect(barrier!.pid).not.toBe(shell.pid);
    expect(barrier!.pid).not.toBe(process.pid);
    expect(r.ignored).toEqual([]);
    // The BARRIER fd (a pipe systemd-notify passed) is closed: no pipe opened since is left.
    // (Only pipes: another thread of this process may open a file meanwhile.)
    const newPipes = (): number[] =>
      ok(listOpenFds()).filter((fd) => !fdsBefore.includes(fd) && /^pipe:/.test(readlinkOr(`/proc/self/fd/${fd}`)));
    await waitFor(() => newPipes().length === 0, { what: 'no passed fd left open' });
  });

  it('takes python3-systemd daemon.notify on an abstract address with the python pid', async (context) => {
    requirePeers(context, 'python3-systemd');
    const r = record(abstractName('py'));
    const py = execa(PYTHON, ['-c', 'from systemd import daemon; daemon.notify("READY=1\\nSTATUS=from python")'], {
      env: { NOTIFY_SOCKET: r.socket.address },
    });
    await py;
    await waitFor(() => r.messages.length >= 1, { what: 'READY from python' });
    expect(r.messages).toHaveLength(1);
    expect(r.messages[0]!.pid).toBe(py.pid);
    expect(r.messages[0]!.fields.get('READY')).toBe('1');
    expect(r.messages[0]!.fields.get('STATUS')).toBe('from python');
  });

  it("credits a foreign process's raw datagram to that process", async (context) => {
    requirePeers(context, 'python3');
    const r = record(path.join(tmpDir(), 'n.sock'));
    const script = 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"READY=1", sys.argv[1])';
    const foreign = execa(PYTHON, ['-c', script, r.socket.address]);
    await foreign;
    await waitFor(() => r.messages.length >= 1, { what: 'foreign datagram' });
    expect(r.messages[0]!.pid).toBe(foreign.pid);
    expect(r.messages[0]!.pid).not.toBe(process.pid);
  });

  it('ignores datagrams over 4096 bytes and holding NUL, and keeps going', async () => {
    const r = record(abstractName('bad'));
    sendDatagram(r.socket.address, Buffer.concat([Buffer.from('READY=1\nSTATUS='), Buffer.alloc(5000, 'x')]));
    sendDatagram(r.socket.address, Buffer.from('READY=1\0STATUS=sneaky'));
    sendDatagram(r.socket.address, Buffer.from(`STATUS=${'y'.repeat(4089)}`)); // exactly 4096 bytes: accepted
    sendDatagram(r.socket.address, Buffer.from('STATUS=last'));
    await waitFor(() => r.messages.length >= 2, { what: 'the two good datagrams' });
    expect(r.ignored).toEqual([
      { reason: 'datagram over 4096 bytes', pid: process.pid },
      { reason: 'datagram holds a NUL byte', pid: process.pid },
    ]);
    expect(r.messages.map((m) => m.fields.get('STATUS')?.length)).toEqual([4089, 4]);
    expect(r.messages.some((m) => m.fields.has('READY'))).toBe(false);
  });

  it('delivers every datagram of a burst, in order', async (context) => {
    requirePeers(context, 'python3');
    const r = record(path.join(tmpDir(), 'burst.sock'));
    const count = 500;
    const script = [
      'import socket,sys',
      's=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      `for i in range(${count}): s.sendto(b"STATUS=%d" % i, sys.argv[1])`,
    ].join('\n');
    const burst = execa(PYTHON, ['-c', script, r.socket.address]);
    await burst;
    await waitFor(() => r.messages.length >= count, { what: `${count} datagrams` });
    expect(r.messages.map((m) => m.fields.get('STATUS'))).toEqual(Array.from({ length: count }, (_, i) => String(i)));
    expect(new Set(r.messages.map((m) => m.pid))).toEqual(new Set([burst.pid]));
  });
});

describe('openNotifySocket lifecycle', () => {
  it('binds a 0777 socket file, replaces a stale one, and removes it on close', () => {
    const address = path.join(tmpDir(), 'stale.sock');
    // A launcher that died leaves its socket file behind, with nobody listening on it.
    const dead = must(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC), 'socket');
    must(bind(dead, { family: 'unix', path: address }), 'bind');
    close(dead);
    const fresh = openNotifySocket(address, { onMessage: () => {} });
    cleanups.push(() => fresh.close());
    expect(statSync(address).isSocket()).toBe(true);
    expect(statSync(address).mode & 0o777).toBe(0o777);
    expect(fresh.address).toBe(address);
    fresh.close();
    expect(existsSync(address)).toBe(false);
    fresh.close(); // idempotent
  });

  it('refuses a path a live socket holds, and never removes a successor\'s file', () => {
    const address = path.join(tmpDir(), 'live.sock');
    const first = openNotifySocket(address, { onMessage: () => {} });
    cleanups.push(() => first.close());
    expect(() => openNotifySocket(address, { onMessage: () => {} })).toThrowError(
      expect.objectContaining({ code: 'LAUNCHER_BIND', context: expect.objectContaining({ errnoName: 'EADDRINUSE' }) }),
    );
    // Someone removed the file; a successor binds the path anew.
    unlinkSync(address);
    const second = openNotifySocket(address, { onMessage: () => {} });
    cleanups.push(() => second.close());
    first.close(); // the predecessor must not remove its successor's file
    expect(statSync(address).isSocket()).toBe(true);
    second.close();
    expect(existsSync(address)).toBe(false);
  });

  it('refuses to replace a file that is not a socket', () => {
    const address = path.join(tmpDir(), 'not-a-socket');
    writeFileSync(address, 'keep me');
    expect(() => openNotifySocket(address, { onMessage: () => {} })).toThrowError(
      expect.objectContaining({ code: 'LAUNCHER_BIND', context: expect.objectContaining({ address }) }),
    );
    expect(existsSync(address)).toBe(true);
  });

  it('reports LAUNCHER_BIND with errno when the folder does not exist', () => {
    const address = path.join(tmpDir(), 'missing', 'n.sock');
    expect(() => openNotifySocket(address, { onMessage: () => {} })).toThrowError(
      expect.objectContaining({ code: 'LAUNCHER_BIND', context: expect.objectContaining({ errnoName: 'ENOENT' }) }),
    );
  });

  it('stops delivering after close', async () => {
    const messages: NotifyMessage[] = [];
    const address = abstractName('closed');
    const socket = openNotifySocket(address, { onMessage: (m) => messages.push(m) });
    sendDatagram(address, Buffer.from('READY=1'));
    await waitFor(() => messages.length === 1, { what: 'first datagram' });
    socket.close();
    // The poll round in flight holds a reference to the socket until the
    // watcher's wake-up lands, so the abstract name goes away a moment later.
    const refused = await waitFor(
      () => {
        const ret = sendDatagram(address, Buffer.from('READY=1'));
        return ret < 0 ? ret : undefined;
      },
      { what: 'the closed socket to refuse datagrams', timeoutMs: 3000 },
    );
    expect(refused).toBe(-E.ECONNREFUSED);
    await new Promise((r) => setImmediate(r));
    expect(messages).toHaveLength(1);
  });
});

describe('parseNotifyFields', () => {
  it('reads KEY=VALUE lines, skips lines without a key, and lets a later duplicate win', () => {
    const fields = parseNotifyFields('READY=1\nnonsense\n=nokey\nSTATUS=a=b\nSTATUS=c\n\nEMPTY=\n');
    expect([...fields]).toEqual([
      ['READY', '1'],
      ['STATUS', 'c'],
      ['EMPTY', ''],
    ]);
  });
});

function readlinkOr(file: string): string {
  try {
    return readlinkSync(file);
  } catch {
    return '';
  }
}
