// `launcher upgrade` / SIGUSR2 end to end: the launcher runs from a copy of the
// built package (an "install"), the test changes that install under it, and the
// launcher re-execs itself in place while a client loads its socket.
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, cleanupLaunchers, httpGet, makeUnitDir, startLauncher, statusJson, waitForAllRunning, waitForState, type RunningLauncher } from '../helpers/launcher.js';
import { startLoad } from '../helpers/load.js';
import { freePort } from '../helpers/ports.js';
import { portableCli, type PortableCli } from '../helpers/portable-cli.js';
import { waitFor } from '../helpers/wait.js';
import { requirePeers } from '../helpers/peers.js';
import { connectLines } from '../helpers/line-client.js';
import { openNotifySocket } from '../../src/supervisor/notify.js';
import type { NotifyMessage } from '../../src/supervisor/contract.js';
import { stopFdWatcher } from '../../src/sys/poll.js';

const HTTP_SERVICE = path.join(FIXTURES, 'e2e/http-service.mjs');
/** Prints "tick N" every 20 ms, so output can be seen arriving after each upgrade. */
const CHATTY = `let n = 0; setInterval(() => console.log('tick ' + n++), 20);`;

let install: PortableCli;
let entry: string;
let entryText: string;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  install = await portableCli(ROOT);
  entry = install.cli;
  entryText = readFileSync(entry, 'utf8');
}, 60_000);
afterAll(() => {
  install?.cleanup();
  stopFdWatcher();
});
afterEach(async () => {
  writeFileSync(entry, entryText);
  await cleanupLaunchers();
  cleanups.splice(0).forEach((c) => c());
});

/** The inodes of every socket the launcher holds, by fd. */
function socketInodes(pid: number): Map<number, string> {
  const map = new Map<number, string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith('socket:')) map.set(Number(fd), target);
    } catch {
      // closed meanwhile
    }
  }
  return map;
}

async function upWith(units: Record<string, string>, env: Record<string, string> = {}): Promise<RunningLauncher> {
  const { unitsDir, cleanup } = makeUnitDir(units);
  cleanups.push(cleanup);
  const launcher = await startLauncher(unitsDir, { cli: entry, env });
  await waitForAllRunning(launcher);
  return launcher;
}

function webUnit(port: number, extra = ''): string {
  return `[service]\nexec = ["node", ${JSON.stringify(HTTP_SERVICE)}]\nready = "notify"\ninstances = 2\n${extra}[[socket]]\nlisten = "127.0.0.1:${port}"\n`;
}

/** The highest "tick N" the chatty unit has printed through the launcher so far. */
function lastTick(launcher: RunningLauncher): number {
  let max = -1;
  for (const line of launcher.lines) {
    const m = /^chatty\[\d+\] tick (\d+)$/.exec(line);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

function setInstalledVersion(version: string): void {
  const file = path.join(path.dirname(entry), '../../package.json');
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version: string };
  const before = pkg.version;
  writeFileSync(file, JSON.stringify({ ...pkg, version }));
  cleanups.push(() => writeFileSync(file, JSON.stringify({ ...pkg, version: before })));
}

describe('launcher upgrade', () => {
  it('20 upgrades under load: no failed request, same launcher and service pids, same sockets, output still relayed', async () => {
    const port = await freePort();
    const launcher = await upWith({ web: webUnit(port), chatty: `[service]\nexec = ["node", "-e", ${JSON.stringify(CHATTY)}]\n` });
    const before = await statusJson(launcher);
    const pids = before.units.map((u) => `${u.name}:${u.pids.join(',')}`);
    const inodes = [...socketInodes(launcher.pid).entries()];
    setInstalledVersion('99.0.0-next');
    const load = startLoad(port, { concurrency: 4 });
    for (let i = 1; i <= 20; i++) {
      const result = await launcher.cli(['upgrade']);
      expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`pid ${launcher.pid} unchanged`));
      const now = await statusJson(launcher);
      expect(now.launcher).toMatchObject({ pid: launcher.pid, upgrades: i, version: '99.0.0-next', startedAt: before.launcher.startedAt });
      expect(now.units.map((u) => `${u.name}:${u.pids.join(',')}`)).toEqual(pids);
      // The chatty service's output goes on arriving through the carried pipes.
      const tick = lastTick(launcher);
      await waitFor(() => lastTick(launcher) > tick + 2, { timeoutMs: 10_000, what: `chatty output after upgrade ${i}` });
    }
    const report = await load.stop();
    expect(report.failed, report.errors.join('\n')).toBe(0);
    expect(report.ok).toBeGreaterThan(0);
    // Every socket it held before is still the same open socket at the same fd.
    const after = socketInodes(launcher.pid);
    for (const [fd, inode] of inodes) if (!String(inode).includes('eventfd')) expect(after.get(fd), `fd ${fd}`).toBe(inode);
    expect(await launcher.stop('SIGTERM')).toBe(0);
  }, 180_000);

  it('a broken install is refused: exit 1 with the check\'s output, nothing changes, still serving', async () => {
    const port = await freePort();
    const launcher = await upWith({ web: webUnit(port) });
    const before = await statusJson(launcher);
    writeFileSync(entry, 'this is not ( javascript\n');
    const result = await launcher.cli(['upgrade']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/upgrade refused, nothing changed/);
    expect(result.stderr).toMatch(/SyntaxError/);
    const after = await statusJson(launcher);
    expect(after.launcher).toMatchObject({ pid: before.launcher.pid, upgrades: 0 });
    expect(after.units[0]?.pids).toEqual(before.units[0]?.pids);
    expect((await httpGet(port)).status).toBe(200);
    // Mended, the same launcher upgrades fine.
    writeFileSync(entry, entryText);
    expect((await launcher.cli(['upgrade'])).exitCode).toBe(0);
    expect((await statusJson(launcher)).launcher.upgrades).toBe(1);
  }, 60_000);

  it('is refused while a restart runs (busy, exit 1)', async () => {
    const port = await freePort();
    // Each new child takes 2 s to be ready, so the restart is surely under way when upgrade arrives.
    const launcher = await upWith({ web: webUnit(port, `env = { READY_DELAY_MS = "2000" }\n`) });
    const restart = launcher.cli(['restart', 'web']);
    await launcher.waitForLine(/new child \d+ starting/);
    const result = await launcher.cli(['upgrade']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/cannot .*while a restart is under way/);
    expect((await restart).exitCode).toBe(0);
    expect((await statusJson(launcher)).launcher.upgrades).toBe(0);
  }, 60_000);

  it('SIGUSR2 upgrades too; a service that crashes afterwards is restarted with its counters carried', async () => {
    const port = await freePort();
    const launcher = await upWith({ web: webUnit(port, 'restart = "always"\nrestart_delay = "100ms"\n') });
    const [first] = (await statusJson(launcher, 'web')).units[0]!.pids;
    process.kill(first!, 'SIGKILL');
    await waitFor(async () => (await statusJson(launcher, 'web')).units[0]!.restarts === 1 && (await statusJson(launcher, 'web')).units[0]!.state === 'running', {
      timeoutMs: 15_000,
      what: 'first restart',
    });
    process.kill(launcher.pid, 'SIGUSR2');
    await launcher.waitForLine(/upgraded in place to version/, 20_000);
    const carried = (await statusJson(launcher, 'web')).units[0]!;
    expect(carried.restarts).toBe(1);
    // An adopted child's exit is seen (the reaper, not libuv, collects it) and the restart policy applies.
    const victim = carried.pids[0]!;
    process.kill(victim, 'SIGKILL');
    await waitFor(async () => (await statusJson(launcher, 'web')).units[0]!.restarts === 2, { timeoutMs: 15_000, what: 'restart of an adopted child' });
    await waitForState(launcher, 'web', 'running');
    expect((await statusJson(launcher, 'web')).units[0]!.pids).not.toContain(victim);
    expect(launcher.lines.join('\n')).toMatch(new RegExp(`#\\d: running -> backoff \\(killed by SIGKILL`));
    expect(await launcher.stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('under systemd (Type=notify): READY=1 with its pid as MAINPID, RELOADING=1 before the exec, READY=1 again after, same MAINPID', async () => {
    const port = await freePort();
    const tmp = makeUnitDir({});
    cleanups.push(tmp.cleanup);
    const messages: NotifyMessage[] = [];
    const manager = openNotifySocket(path.join(tmp.dir, 'systemd-notify.sock'), { onMessage: (m) => messages.push(m) });
    cleanups.push(() => manager.close());
    const launcher = await upWith({ web: webUnit(port) }, { NOTIFY_SOCKET: manager.address });
    const ready = (): NotifyMessage[] => messages.filter((m) => m.fields.get('READY') === '1');
    await waitFor(() => ready().length === 1, { what: 'READY=1 from the launcher' });
    expect(ready()[0]).toMatchObject({ pid: launcher.pid });
    expect(ready()[0]!.fields.get('MAINPID')).toBe(String(launcher.pid));
    expect((await launcher.cli(['upgrade'])).exitCode).toBe(0);
    await waitFor(() => ready().length === 2, { what: 'READY=1 after the upgrade' });
    const reloading = messages.findIndex((m) => m.fields.get('RELOADING') === '1');
    expect(reloading).toBeGreaterThan(messages.indexOf(ready()[0]!));
    expect(ready()[1]!.fields.get('MAINPID')).toBe(String(launcher.pid));
    expect(ready()[1]!.pid).toBe(launcher.pid);
    // The services never see the manager's socket.
    expect((await httpGet(port, '/env/NOTIFY_SOCKET')).body.trim()).not.toBe(manager.address);
    expect(await launcher.stop('SIGTERM')).toBe(0);
    await waitFor(() => messages.some((m) => m.fields.get('STOPPING') === '1'), { what: 'STOPPING=1' });
  }, 60_000);

  it('carries the fd store: a client connection stored before the upgrade reaches the child started after it', async (context) => {
    requirePeers(context, 'python3-systemd');
    const port = await freePort();
    const echo = ['[service]', `exec = ["/usr/bin/python3", ${JSON.stringify(path.join(FIXTURES, 'fdstore/echo-store.py'))}]`, 'fd_store_max = 8', 'handoff = "stop-first"',
      'restart = "always"', 'restart_delay = "50ms"', '[[socket]]', `listen = "127.0.0.1:${port}"`, 'name = "echo"'].join('\n');
    const launcher = await upWith({ echo });
    const client = await connectLines(port);
    cleanups.push(() => client.close());
    const pidA = Number((await client.ask('one')).split(' ')[0]);
    await waitFor(async () => ((await statusJson(launcher, 'echo')).units[0]!.storedFds ?? []).length === 1, { what: 'the stored connection' });
    expect((await launcher.cli(['upgrade'])).exitCode).toBe(0);
    expect((await statusJson(launcher, 'echo')).units[0]!.storedFds).toHaveLength(1);
    process.kill(pidA, 'SIGKILL');
    const pidB = await waitFor(async () => {
      const u = (await statusJson(launcher, 'echo')).units[0]!;
      return u.state === 'running' && u.pids[0] !== pidA ? u.pids[0] : undefined;
    }, { what: 'the restart after the upgrade' });
    expect((await client.ask('two'))).toBe(`${pidB} two`);
    expect(client.connects).toBe(1);
  }, 60_000);

  it.skipIf(process.getuid?.() !== 0)('adopts a service running as another user (root only)', async () => {
    // /bin/sleep, not a file of this clone: the clone may sit in a folder nobody cannot read.
    const launcher = await upWith({ web: '[service]\nexec = ["sleep", "1000"]\nuser = "nobody"\ninstances = 2\n' });
    const before = (await statusJson(launcher, 'web')).units[0]!;
    const owner = (pid: number): number => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    expect(owner(before.pids[0]!)).not.toBe(0);
    expect((await launcher.cli(['upgrade'])).exitCode).toBe(0);
    expect((await statusJson(launcher, 'web')).units[0]!.pids).toEqual(before.pids);
    // Its stop after the upgrade is still graceful and seen.
    expect(await launcher.stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('two upgrades at once: the second is refused as busy', async () => {
    const port = await freePort();
    const launcher = await upWith({ web: webUnit(port) });
    const [a, b] = await Promise.all([launcher.cli(['upgrade']), launcher.cli(['upgrade'])]);
    expect([a.exitCode, b.exitCode].sort()).toEqual([0, 1]);
    expect((a.exitCode === 1 ? a : b).stderr).toMatch(/cannot upgrade while another upgrade is under way/);
    expect((await statusJson(launcher)).launcher.upgrades).toBe(1);
  }, 60_000);
});
