// Per-connection services (accept = true) end to end: the launcher accepts and
// starts one process per connection; real libsystemd and python3-systemd
// programs check what they get; max_connections holds clients in the backlog
// without refusing any; stdio = "socket" turns `cat` into an echo server.
import { execa } from 'execa';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildLibsystemdClient, requirePeers } from '../helpers/peers.js';
import { freePort } from '../helpers/ports.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupLaunchers, cli, FIXTURES, makeUnitDir, startLauncher, unitStatus } from '../helpers/launcher.js';
import { connectLines, type LineClient } from '../helpers/line-client.js';

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  cleanups.splice(0).forEach((c) => c());
});

const PY_CHECK = path.join(FIXTURES, 'fdstore/conn-check.py');
let cCheck = '';
let build = { cleanup: () => {} };
beforeAll(async () => {
  const client = await buildLibsystemdClient(path.join(FIXTURES, 'fdstore/conn-check.c'));
  [cCheck, build] = [client.path, client];
});
afterAll(() => build.cleanup());

function acceptUnit(exec: string[], port: number, socketExtra: string[] = [], serviceExtra: string[] = []): string {
  return ['[service]', `exec = ${JSON.stringify(exec)}`, ...serviceExtra, '[[socket]]', `listen = "127.0.0.1:${port}"`, 'accept = true', ...socketExtra].join('\n');
}

/** Inodes of the established TCP connections whose local port is `port` (the server ends). */
function serverEnds(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] && parseInt(cols[1].split(':')[1] ?? '', 16) === port && cols[3] === '01' && cols[9]) inodes.add(cols[9]);
  }
  return inodes;
}

/** The socket inodes process `pid` holds. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

interface Report {
  count: number;
  name: string;
  connected: number | boolean;
  listening: number | boolean;
  listenPid: string;
  pid: number;
  remoteAddr: string;
  remotePort: string;
}

/** `n` clients connected at once; each one's report line. */
async function connectMany(port: number, n: number): Promise<{ clients: LineClient[]; reports: Report[] }> {
  const clients = await Promise.all(Array.from({ length: n }, () => connectLines(port)));
  cleanups.push(() => clients.forEach((c) => c.close()));
  const reports = await Promise.all(clients.map(async (c) => JSON.parse(await c.nextLine(30_000)) as Report));
  return { clients, reports };
}

describe.each([
  ['libsystemd', () => [cCheck]],
  ['python3-systemd', () => ['/usr/bin/python3', PY_CHECK]],
])('accept = true with a %s service', (label, exec) => {
  beforeEach((context) => requirePeers(context, label.startsWith('python3') ? 'python3-systemd' : 'libsystemd'));
  it('serves 40 concurrent clients each by its own pid, with exactly one connected stream fd', async () => {
    const port = await freePort();
    const dir = makeUnitDir({ web: acceptUnit(exec(), port) });
    cleanups.push(dir.cleanup);
    const launcher = await startLauncher(dir.unitsDir);
    const { clients, reports } = await connectMany(port, 40);
    expect(new Set(reports.map((r) => r.pid)).size).toBe(40);
    // The launcher closed its copy of each connection as soon as the process existed.
    const connections = serverEnds(port);
    expect(connections.size).toBe(40);
    const held = socketInodes(launcher.pid);
    expect([...connections].filter((inode) => held.has(inode))).toEqual([]);
    for (const r of reports) {
      expect(r).toMatchObject({ count: 1, name: 'connection', listenPid: String(r.pid), remoteAddr: '127.0.0.1' });
      expect(Boolean(r.connected)).toBe(true);
      expect(Boolean(r.listening)).toBe(false);
      expect(Number(r.remotePort)).toBeGreaterThan(0);
    }
    const status = await unitStatus(launcher, 'web');
    expect(status.perConnection).toBe(true);
    expect(status.instances.map((i) => i.pid).sort()).toEqual(reports.map((r) => r.pid).sort());
    const table = (await launcher.cli(['status'])).stdout;
    expect(table.split('\n').filter((l) => /^web@\d+\s+running\s+\d+/.test(l))).toHaveLength(40);
    clients.forEach((c) => c.close());
    await waitFor(async () => (await unitStatus(launcher, 'web')).instances.length === 0, { what: 'every connection process to end' });
  });
});

describe('accept = true', () => {
  it('is refused on a datagram socket by `launcher check`: exit 2, a located error, no stack trace', async () => {
    const dir = makeUnitDir({ udp: ['[service]', 'exec = ["cat"]', '[[socket]]', 'listen = "127.0.0.1:9999"', 'type = "datagram"', 'accept = true'].join('\n') });
    cleanups.push(dir.cleanup);
    const r = await cli(['check', '--units', dir.unitsDir]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr + r.stdout).toMatch(/udp\.toml:6:\d+ \[\[socket\]\]\[0\]\.accept: applies to "stream" and "seqpacket" sockets only/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('runs at most max_connections at once; the other clients wait in the backlog and none is refused', async (context) => {
    requirePeers(context, 'libsystemd');
    const port = await freePort();
    const dir = makeUnitDir({ web: acceptUnit([cCheck], port, ['max_connections = 8']) });
    cleanups.push(dir.cleanup);
    const launcher = await startLauncher(dir.unitsDir);
    // All 40 connect (the kernel completes them from the backlog) before any is served.
    const clients = await Promise.all(Array.from({ length: 40 }, () => connectLines(port)));
    cleanups.push(() => clients.forEach((c) => c.close()));
    const served = new Set<LineClient>();
    const pids = new Set<number>();
    clients.forEach((c) => void c.nextLine(120_000).then((line) => {
      served.add(c);
      pids.add((JSON.parse(line) as Report).pid);
    }, () => {}));
    let closed = 0;
    while (closed < 40) {
      const wave = Math.min(8, 40 - closed);
      await waitFor(() => served.size >= closed + wave, { timeoutMs: 30_000, what: `${closed + wave} clients served` });
      expect(served.size).toBe(closed + wave); // never more than 8 ahead of the ones that left
      const running = (await unitStatus(launcher, 'web')).instances.length;
      expect(running).toBeLessThanOrEqual(8);
      // Let this wave go: each process ends when its client closes, making room for the next.
      const done = [...served].filter((c) => !c.closed);
      done.forEach((c) => c.close());
      closed += done.length;
    }
    expect(pids.size).toBe(40);
    expect(clients.every((c) => c.connects === 1)).toBe(true);
  });

  it('with stdio = "socket", `cat` is an echo server', async () => {
    const port = await freePort();
    const dir = makeUnitDir({ echo: acceptUnit(['cat'], port, [], ['stdio = "socket"']) });
    cleanups.push(dir.cleanup);
    await startLauncher(dir.unitsDir);
    const [a, b] = await Promise.all([connectLines(port), connectLines(port)]);
    cleanups.push(() => a?.close(), () => b?.close());
    expect(await a!.ask('hello')).toBe('hello');
    expect(await b!.ask('world')).toBe('world');
    expect(await a!.ask('again')).toBe('again');
  });

  it('stop ends every connection process and the socket keeps its clients waiting until start', async () => {
    const port = await freePort();
    const dir = makeUnitDir({ web: acceptUnit(['cat'], port, [], ['stdio = "socket"']) });
    cleanups.push(dir.cleanup);
    const launcher = await startLauncher(dir.unitsDir);
    const first = await connectLines(port);
    cleanups.push(() => first.close());
    expect(await first.ask('one')).toBe('one');
    expect((await launcher.cli(['stop', 'web'])).exitCode).toBe(0);
    await waitFor(() => first.closed, { what: 'the connection process to end' });
    expect((await unitStatus(launcher, 'web')).state).toBe('inactive');
    // Stopped: a new client still connects (backlog) and is served once the unit starts again.
    const second = await connectLines(port);
    cleanups.push(() => second.close());
    expect((await launcher.cli(['start', 'web'])).exitCode).toBe(0);
    expect(await second.ask('two')).toBe('two');
  });

  it('a reload that changes the unit keeps the running connections and gives the new spec to the next ones', async () => {
    const port = await freePort();
    const dir = makeUnitDir({ web: acceptUnit(['cat'], port, [], ['stdio = "socket"']) });
    cleanups.push(dir.cleanup);
    const launcher = await startLauncher(dir.unitsDir);
    const old = await connectLines(port);
    cleanups.push(() => old.close());
    expect(await old.ask('before')).toBe('before');
    writeFileSync(path.join(dir.unitsDir, 'web.toml'), acceptUnit(['sed', '-u', 's/^/new: /'], port, [], ['stdio = "socket"']));
    const reload = await launcher.cli(['reload']);
    expect(reload.exitCode, reload.stderr).toBe(0);
    expect(await old.ask('still cat')).toBe('still cat');
    const fresh = await connectLines(port);
    cleanups.push(() => fresh.close());
    expect(await fresh.ask('hello')).toBe('new: hello');
  });

  it('a reload switches a unit between a process per connection and one service on the same open socket', async (context) => {
    requirePeers(context, 'python3');
    const port = await freePort();
    const dir = makeUnitDir({ web: acceptUnit(['cat'], port, [], ['stdio = "socket"']) });
    cleanups.push(dir.cleanup);
    const launcher = await startLauncher(dir.unitsDir);
    const first = await connectLines(port);
    cleanups.push(() => first.close());
    expect(await first.ask('cat')).toBe('cat');
    const echo = path.join(FIXTURES, 'fdstore/echo-store.py');
    writeFileSync(path.join(dir.unitsDir, 'web.toml'), ['[service]', `exec = ["/usr/bin/python3", ${JSON.stringify(echo)}]`, '[[socket]]', `listen = "127.0.0.1:${port}"`, 'name = "echo"'].join('\n'));
    const reload = await launcher.cli(['reload']);
    expect(reload.exitCode, reload.stderr).toBe(0);
    const status = await unitStatus(launcher, 'web');
    expect(status.perConnection).toBeUndefined();
    const second = await connectLines(port);
    cleanups.push(() => second.close());
    expect(await second.ask('one service')).toBe(`${status.pids[0]} one service`);
  });

  it('pauses accepting with backoff while processes cannot be started, never giving up the socket', async () => {
    const port = await freePort();
    const dir = makeUnitDir({ web: acceptUnit(['cat'], port, [], ['stdio = "socket"', 'workdir = "gone"', 'restart_delay = "4s"']) });
    cleanups.push(dir.cleanup);
    const workdir = path.join(dir.unitsDir, 'gone');
    mkdirSync(workdir);
    const launcher = await startLauncher(dir.unitsDir);
    rmdirSync(workdir); // every spawn now fails (no working directory)
    const doomed = await connectLines(port);
    cleanups.push(() => doomed.close());
    await launcher.waitForLine(/cannot start a process for connection 0: .*; pausing accepts for 4000 ms/);
    await waitFor(() => doomed.closed, { what: 'the failed connection to be closed' });
    // The socket stays: a client connects during the pause (nothing is accepted then) and waits in the backlog.
    const patient = await connectLines(port);
    cleanups.push(() => patient.close());
    mkdirSync(workdir);
    expect(await patient.ask('still here', 30_000)).toBe('still here');
    expect((await unitStatus(launcher, 'web')).state).toBe('running');
  });
});
