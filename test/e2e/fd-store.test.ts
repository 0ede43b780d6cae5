// The fd store end to end: real services written against python3-systemd
// (systemd.daemon.notify(..., fds=[...])) and libsystemd (sd_pid_notify_with_fds)
// hand each client connection to the launcher; one TCP connection is answered by
// pid A, then by pid B after `launcher restart`, then by pid C after a SIGKILL and
// the restart policy, without ever reconnecting. `stop` releases the store.
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildLibsystemdClient, requirePeers } from '../helpers/peers.js';
import { freePort } from '../helpers/ports.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupLaunchers, FIXTURES, ROOT, makeUnitDir, startLauncher, unitStatus, waitForAllRunning, type RunningLauncher } from '../helpers/launcher.js';
import { connectLines } from '../helpers/line-client.js';

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  cleanups.splice(0).forEach((c) => c());
});

const PY_ECHO = path.join(FIXTURES, 'fdstore/echo-store.py');
let cEcho = '';
let build = { cleanup: () => {} };
beforeAll(async () => {
  const client = await buildLibsystemdClient(path.join(FIXTURES, 'fdstore/echo-store.c'));
  [cEcho, build] = [client.path, client];
});
afterAll(() => build.cleanup());

function echoUnit(exec: string[], port: number, extra: string[] = []): string {
  return [
    '[service]',
    `exec = ${JSON.stringify(exec)}`,
    'fd_store_max = 8',
    'handoff = "stop-first"',
    'restart = "always"',
    'restart_delay = "50ms"',
    ...extra,
    '[[socket]]',
    `listen = "127.0.0.1:${port}"`,
    'name = "echo"',
  ].join('\n');
}

/** The answer's pid ("<pid> <line>"), checking the echoed text. */
function pidOf(answer: string, text: string): number {
  const [pid, echoed] = answer.split(' ');
  expect(echoed).toBe(text);
  return Number(pid);
}

async function storedNames(launcher: RunningLauncher): Promise<string[]> {
  return ((await unitStatus(launcher, 'echo')).storedFds ?? []).map((f) => f.name);
}

describe.each([
  ['python3-systemd', () => ['/usr/bin/python3', PY_ECHO]],
  ['libsystemd sd_pid_notify_with_fds', () => [cEcho]],
])('fd store with a %s service', (label, exec) => {
  beforeEach((context) => requirePeers(context, label.startsWith('python3') ? 'python3-systemd' : 'libsystemd'));
  it('keeps one TCP client connected across restart and a SIGKILL: pids A, B, C answer it', async () => {
    const port = await freePort();
    const dir = makeUnitDir({ echo: echoUnit(exec(), port) });
    cleanups.push(dir.cleanup);
    const launcher = await startLauncher(dir.unitsDir);
    await waitForAllRunning(launcher);
    await launcher.waitForLine(/serving pid=\d+ restored=0/);

    const client = await connectLines(port);
    cleanups.push(() => client.close());
    const pidA = pidOf(await client.ask('one'), 'one');
    // The service stored the connection as soon as it accepted it.
    await waitFor(async () => (await storedNames(launcher)).length === 1, { what: 'the connection in the fd store' });
    const status = await unitStatus(launcher, 'echo');
    expect(status.storedFds).toEqual([{ instance: 0, name: expect.stringMatching(/^conn-\d+-1$/) }]);
    expect((await launcher.cli(['status'])).stdout).toMatch(/^echo\s+running\s+\d+\s+\S+\s+\S+\s+0\s+1\/8\b/m);

    const restart = await launcher.cli(['restart', 'echo']);
    expect(restart.exitCode, restart.stderr).toBe(0);
    const pidB = pidOf(await client.ask('two'), 'two');
    expect(pidB).not.toBe(pidA);
    expect((await unitStatus(launcher, 'echo')).pids).toEqual([pidB]);

    process.kill(pidB, 'SIGKILL');
    const pidC = await waitFor(
      async () => {
        const s = await unitStatus(launcher, 'echo');
        return s.state === 'running' && s.pids[0] !== pidB ? s.pids[0] : undefined;
      },
      { what: 'the policy restart after SIGKILL' },
    );
    expect(pidOf(await client.ask('three'), 'three')).toBe(pidC);
    expect(new Set([pidA, pidB, pidC]).size).toBe(3);
    expect(client.closed).toBe(false);
    expect(client.connects).toBe(1);
    // One stored fd throughout: the new children's re-stores were recognised as the same connection.
    expect(await storedNames(launcher)).toHaveLength(1);
  });

  it('releases the store on stop: the client sees its connection closed', async () => {
    const port = await freePort();
    const dir = makeUnitDir({ echo: echoUnit(exec(), port) });
    cleanups.push(dir.cleanup);
    const launcher = await startLauncher(dir.unitsDir);
    const client = await connectLines(port);
    cleanups.push(() => client.close());
    await client.ask('hello');
    await waitFor(async () => (await storedNames(launcher)).length === 1, { what: 'the connection in the fd store' });
    expect((await launcher.cli(['stop', 'echo'])).exitCode).toBe(0);
    expect(await storedNames(launcher)).toEqual([]);
    await waitFor(() => client.closed, { what: 'the client to see its connection closed' });
  });
});

describe('fd store across reload', () => {
  beforeEach((context) => requirePeers(context, 'python3-systemd'));
  it('keeps the store through a reload that leaves the unit unchanged, and through one that changes it', async () => {
    const port = await freePort();
    const dir = makeUnitDir({ echo: echoUnit(['/usr/bin/python3', PY_ECHO], port) });
    cleanups.push(dir.cleanup);
    const launcher = await startLauncher(dir.unitsDir);
    await waitForAllRunning(launcher);
    const client = await connectLines(port);
    cleanups.push(() => client.close());
    const pidA = pidOf(await client.ask('a'), 'a');
    await waitFor(async () => (await storedNames(launcher)).length === 1, { what: 'the stored client' });
    expect((await launcher.cli(['reload'])).exitCode).toBe(0);
    expect(await storedNames(launcher)).toHaveLength(1);
    expect(pidOf(await client.ask('b'), 'b')).toBe(pidA);
    // A changed unit is handed off (stop-first): the new child gets the stored client.
    writeFileSync(path.join(dir.unitsDir, 'echo.toml'), echoUnit(['/usr/bin/python3', PY_ECHO], port, ['stop_timeout = "9s"']));
    const reload = await launcher.cli(['reload']);
    expect(reload.exitCode, reload.stderr).toBe(0);
    const pidB = pidOf(await client.ask('c'), 'c');
    expect(pidB).not.toBe(pidA);
    expect(await storedNames(launcher)).toHaveLength(1);
  });
});

describe('fd store with a Node service (socket-launcher/service store() and stored())', () => {
  it('the example units/keep.mjs keeps a TCP client across restart and SIGKILL', async () => {
    const port = await freePort();
    const example = path.join(ROOT, 'units/keep.mjs');
    const dir = makeUnitDir({ keep: echoUnit([process.execPath, example], port).replace('name = "echo"', 'name = "keep"') });
    cleanups.push(dir.cleanup);
    const launcher = await startLauncher(dir.unitsDir);
    await waitForAllRunning(launcher);
    await launcher.waitForLine(/serving; 0 client\(s\) kept from before/);
    const client = await connectLines(port);
    cleanups.push(() => client.close());
    const pidIn = (answer: string, text: string): number => {
      const m = /^\[pid (\d+)\] (.*)$/.exec(answer);
      expect(m?.[2]).toBe(text);
      return Number(m?.[1]);
    };
    const pidA = pidIn(await client.ask('one'), 'one');
    await waitFor(async () => ((await unitStatus(launcher, 'keep')).storedFds ?? []).length === 1, { what: 'the stored client' });
    expect((await launcher.cli(['restart', 'keep'])).exitCode).toBe(0);
    const pidB = pidIn(await client.ask('two'), 'two');
    process.kill(pidB, 'SIGKILL');
    const pidC = await waitFor(async () => {
      const s = await unitStatus(launcher, 'keep');
      return s.state === 'running' && s.pids[0] !== pidB ? s.pids[0] : undefined;
    }, { what: 'the restart after SIGKILL' });
    expect(pidIn(await client.ask('three'), 'three')).toBe(pidC);
    expect(new Set([pidA, pidB, pidC]).size).toBe(3);
    client.close();
    await waitFor(async () => ((await unitStatus(launcher, 'keep')).storedFds ?? []).length === 0, { what: 'unstore() after the client left' });
  });
});

describe('fd store limits', () => {
  beforeEach((context) => requirePeers(context, 'python3-systemd'));
  it('closes fds beyond fd_store_max with a warning, and the refused client sees EOF', async () => {
    const port = await freePort();
    const dir = makeUnitDir({ echo: echoUnit(['/usr/bin/python3', PY_ECHO], port).replace('fd_store_max = 8', 'fd_store_max = 1') });
    cleanups.push(dir.cleanup);
    const launcher = await startLauncher(dir.unitsDir);
    await waitForAllRunning(launcher);
    const first = await connectLines(port);
    const second = await connectLines(port);
    cleanups.push(() => first.close(), () => second.close());
    await first.ask('a');
    await second.ask('b');
    await launcher.waitForLine(/fd store full \(fd_store_max = 1\): closed 1 extra fd/);
    expect(await storedNames(launcher)).toHaveLength(1);
    // After a restart only the stored client is served; the other was the service's alone and died with it.
    expect((await launcher.cli(['restart', 'echo'])).exitCode).toBe(0);
    await waitFor(() => second.closed, { what: 'the unstored client to be closed with the old child' });
    expect((await first.ask('c')).endsWith(' c')).toBe(true);
  });

  it('forgets a client the service removed with FDSTOREREMOVE=1 when it left', async () => {
    const port = await freePort();
    const dir = makeUnitDir({ echo: echoUnit(['/usr/bin/python3', PY_ECHO], port) });
    cleanups.push(dir.cleanup);
    const launcher = await startLauncher(dir.unitsDir);
    const client = await connectLines(port);
    await client.ask('x');
    await waitFor(async () => (await storedNames(launcher)).length === 1, { what: 'the connection in the fd store' });
    client.close();
    await launcher.waitForLine(/removed 1 stored fd\(s\) named "conn-\d+-1" \(FDSTOREREMOVE=1\)/);
    expect(await storedNames(launcher)).toEqual([]);
  });
});

describe('fd store refusals', () => {
  beforeEach((context) => requirePeers(context, 'python3-systemd'));
  it('closes the fds a process other than the service sent', async () => {
    const dir = makeUnitDir({
      foreign: ['[service]', `exec = ["/usr/bin/python3", ${JSON.stringify(path.join(FIXTURES, 'fdstore/foreign-store.py'))}]`, 'fd_store_max = 4'].join('\n'),
    });
    cleanups.push(dir.cleanup);
    const launcher = await startLauncher(dir.unitsDir);
    const sent = await launcher.waitForLine(/sent from pid (\d+)/);
    const helper = /sent from pid (\d+)/.exec(sent)![1];
    await launcher.waitForLine(new RegExp(`notify message from pid ${helper}, which is not one of its processes, ignoring`));
    await launcher.waitForLine(/^foreign\[\d+\] released$/);
    expect((await unitStatus(launcher, 'foreign')).storedFds).toEqual([]);
  });
});

describe('fd store hang-ups', () => {
  beforeEach((context) => requirePeers(context, 'python3-systemd'));
  const FORGET = path.join(FIXTURES, 'fdstore/store-and-forget.py');

  async function heldBy(fdpoll: string): Promise<{ launcher: RunningLauncher; sock: string }> {
    const dir = makeUnitDir({
      held: [
        '[service]',
        `exec = ["/usr/bin/python3", ${JSON.stringify(FORGET)}]`,
        `env = { FDPOLL = "${fdpoll}" }`,
        'fd_store_max = 4',
        '[[socket]]',
        'listen = "unix:held.sock"',
        'name = "held"',
      ].join('\n'),
    });
    cleanups.push(dir.cleanup);
    const launcher = await startLauncher(dir.unitsDir);
    await waitForAllRunning(launcher);
    return { launcher, sock: path.join(dir.unitsDir, 'held.sock') };
  }

  async function handOver(launcher: RunningLauncher, sock: string, payload: string): Promise<void> {
    const net = await import('node:net');
    const before = launcher.lines.filter((l) => l.includes('handed over')).length;
    const client = net.connect(sock);
    client.on('error', () => {});
    await new Promise((resolve) => client.once('connect', resolve));
    if (payload) client.write(payload);
    await waitFor(() => launcher.lines.filter((l) => l.includes('handed over')).length > before, { what: 'the service to hand the connection over' });
    await waitFor(async () => ((await unitStatus(launcher, 'held')).storedFds ?? []).length > 0, { what: 'the stored connection' });
    client.destroy();
  }

  it('drops a stored connection whose peer hung up', async () => {
    const { launcher, sock } = await heldBy('1');
    await handOver(launcher, sock, '');
    await launcher.waitForLine(/stored fd "held" hung up; dropped it/);
    expect((await unitStatus(launcher, 'held')).storedFds).toEqual([]);
  });

  it('keeps one whose peer hung up with data still unread (systemd #12086), and passes it on', async () => {
    const { launcher, sock } = await heldBy('1');
    await handOver(launcher, sock, 'last words\n');
    await launcher.waitForLine(/peer hung up with 11 byte\(s\) unread; keeping it/);
    expect((await unitStatus(launcher, 'held')).storedFds).toEqual([{ instance: 0, name: 'held' }]);
    expect((await launcher.cli(['restart', 'held'])).exitCode).toBe(0);
    await launcher.waitForLine(/serving pid=\d+ stored=1/);
  });

  it('keeps one stored with FDPOLL=0 after its peer hung up', async () => {
    const { launcher, sock } = await heldBy('0');
    await handOver(launcher, sock, '');
    // Prove the launcher had the chance to see the hang-up: a second client's fd arrives after it.
    await handOver(launcher, sock, '');
    expect((await unitStatus(launcher, 'held')).storedFds).toEqual([
      { instance: 0, name: 'held' },
      { instance: 0, name: 'held' },
    ]);
    expect(launcher.lines.some((l) => l.includes('hung up'))).toBe(false);
  });
});
