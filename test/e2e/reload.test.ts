// End to end: `launcher reload` (and SIGHUP) against a real `launcher up` —
// an unchanged socket is the very same kernel socket across a handoff under
// load, a broken directory changes nothing, and added / removed / moved units
// open and close exactly their ports.
import { readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, cleanupLaunchers, httpGet, makeUnitDir, startLauncher, waitForHttp, type RunningLauncher, tcpConnects, unitStatus } from '../helpers/launcher.js';
import { startLoad } from '../helpers/load.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

const NODE_SERVICE = path.join(FIXTURES, 'e2e/http-service.mjs');

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  for (const c of cleanups.splice(0)) c();
});

function nodeUnit(port: number, env: Record<string, string> = {}): string {
  const envLine = Object.entries(env)
    .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
    .join(', ');
  return ['[service]', `exec = ["node", ${JSON.stringify(NODE_SERVICE)}]`, 'ready = "notify"', `env = { ${envLine} }`, '[[socket]]', `listen = "127.0.0.1:${port}"`, ''].join('\n');
}

/** The inode of the TCP socket listening on 127.0.0.1:port, from /proc/net/tcp (undefined if none). */
function listeningInode(port: number): number | undefined {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const row of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const cols = row.trim().split(/\s+/);
    // local_address is cols[1] ("0100007F:1F90"), st is cols[3] (0A = LISTEN), inode is cols[9].
    if (cols[1] === `0100007F:${portHex}` && cols[3] === '0A') return Number(cols[9]);
  }
  return undefined;
}

/** Socket inodes among `pid`'s open fds. */
function socketInodesOf(pid: number): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(Number(m[1]));
    } catch {
      // The fd closed while we listed: not a listening socket we care about.
    }
  }
  return inodes;
}

async function reload(launcher: RunningLauncher): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return launcher.cli(['reload']);
}

describe('launcher reload', () => {
  it('hands a changed service off under load: same listening socket, 0 failed requests, new environment; SIGHUP too', async () => {
    const port = await freePort();
    const units = makeUnitDir({ web: nodeUnit(port, { GREETING: 'v1' }) });
    cleanups.push(units.cleanup);
    const launcher = await startLauncher(units.unitsDir);
    const oldPid = (await waitForHttp(port)).trim();
    expect((await httpGet(port, '/env/GREETING')).body).toBe('v1\n');
    const inode = listeningInode(port);
    expect(inode).toBeGreaterThan(0);
    expect(socketInodesOf(launcher.pid).has(inode!)).toBe(true);

    const load = startLoad(port, { concurrency: 4 });
    writeFileSync(path.join(units.unitsDir, 'web.toml'), nodeUnit(port, { GREETING: 'v2' }));
    const r = await reload(launcher);
    // Keep the load on until the new child has answered a few times.
    await waitFor(() => load.report.bodies.size >= 2 && load.report.ok > 20, { timeoutMs: 15_000, what: 'load across the handoff' });
    const report = await load.stop();
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`changed web: handed off \\(${oldPid} → \\d+\\)`));
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    const newPid = (await httpGet(port)).body.trim();
    expect(newPid).not.toBe(oldPid);
    expect((await httpGet(port, '/env/GREETING')).body).toBe('v2\n');
    expect(listeningInode(port)).toBe(inode);
    expect(socketInodesOf(launcher.pid).has(inode!)).toBe(true);

    // An unchanged directory changes nothing.
    const same = await reload(launcher);
    expect(same.exitCode, same.stderr).toBe(0);
    expect(same.stdout).toBe('nothing changed');
    expect((await httpGet(port)).body.trim()).toBe(newPid);

    // SIGHUP reloads as well.
    writeFileSync(path.join(units.unitsDir, 'web.toml'), nodeUnit(port, { GREETING: 'v3' }));
    process.kill(launcher.pid, 'SIGHUP');
    await waitFor(async () => (await httpGet(port, '/env/GREETING')).body === 'v3\n', { timeoutMs: 15_000, what: 'GREETING=v3 after SIGHUP' });
    expect(listeningInode(port)).toBe(inode);
  }, 60_000);

  it('keeps the same socket when only options that can change in place change (backlog, keep_alive, no_delay)', async () => {
    const port = await freePort();
    const units = makeUnitDir({ web: nodeUnit(port) });
    cleanups.push(units.cleanup);
    const launcher = await startLauncher(units.unitsDir);
    const oldPid = (await waitForHttp(port)).trim();
    const inode = listeningInode(port);
    writeFileSync(path.join(units.unitsDir, 'web.toml'), nodeUnit(port) + 'backlog = 77\nkeep_alive = true\nno_delay = true\n');
    const r = await reload(launcher);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/changed web: handed off/);
    expect((await httpGet(port)).body.trim()).not.toBe(oldPid);
    expect(listeningInode(port)).toBe(inode);
  }, 30_000);

  it('refuses a broken directory whole (exit 2, every error) and keeps everything serving', async () => {
    const port = await freePort();
    const units = makeUnitDir({ web: nodeUnit(port, { GREETING: 'v1' }) });
    cleanups.push(units.cleanup);
    const launcher = await startLauncher(units.unitsDir);
    const pid = (await waitForHttp(port)).trim();
    const otherPort = await freePort();

    // A valid change to web next to two broken units: none of it may apply.
    writeFileSync(path.join(units.unitsDir, 'web.toml'), nodeUnit(port, { GREETING: 'v2' }));
    writeFileSync(path.join(units.unitsDir, 'bad.toml'), '[service]\nexec = ["nod-does-not-exist"]\nready_timout = "1s"\n');
    writeFileSync(path.join(units.unitsDir, 'worse.toml'), `[service]\nexec = ["sleep", "1"]\n[[socket]]\nlisten = "127.0.0.1:${otherPort}"\n[[socket]]\nlisten = "127.0.0.1:${port}"\n`);
    const r = await reload(launcher);
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/bad\.toml.*\[service\]\.exec: "nod-does-not-exist" not found in PATH/);
    expect(r.stderr).toMatch(/bad\.toml.*ready_timout.*did you mean `ready_timeout`/);
    expect(r.stderr).toMatch(new RegExp(`worse\\.toml.*\\[\\[socket\\]\\]\\[1\\]\\.listen: "127\\.0\\.0\\.1:${port}" is already used by web\\.toml`));

    expect((await httpGet(port)).body.trim()).toBe(pid);
    expect((await httpGet(port, '/env/GREETING')).body).toBe('v1\n');
    expect(await tcpConnects(otherPort)).toBe(false);
    const status = JSON.parse((await launcher.cli(['status', '--json'])).stdout) as { units: { name: string; state: string; pids: number[] }[] };
    expect(status.units).toEqual([expect.objectContaining({ name: 'web', state: 'running', pids: [Number(pid)] })]);

    // Fixed, the pending change to web applies.
    rmSync(path.join(units.unitsDir, 'bad.toml'));
    rmSync(path.join(units.unitsDir, 'worse.toml'));
    const fixed = await reload(launcher);
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    expect((await httpGet(port, '/env/GREETING')).body).toBe('v2\n');
  }, 60_000);

  it('starts an added unit, stops a removed one and closes its port, moves a changed address', async () => {
    const [keepPort, goPort, movePort, movedPort, addPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const units = makeUnitDir({ keep: nodeUnit(keepPort), go: nodeUnit(goPort), move: nodeUnit(movePort) });
    cleanups.push(units.cleanup);
    const launcher = await startLauncher(units.unitsDir);
    const keepPid = (await waitForHttp(keepPort)).trim();
    const goPid = (await waitForHttp(goPort)).trim();
    await waitForHttp(movePort);
    const keepInode = listeningInode(keepPort);

    rmSync(path.join(units.unitsDir, 'go.toml'));
    writeFileSync(path.join(units.unitsDir, 'move.toml'), nodeUnit(movedPort));
    writeFileSync(path.join(units.unitsDir, 'add.toml'), nodeUnit(addPort));
    const r = await reload(launcher);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^removed go$/m);
    expect(r.stdout).toMatch(/^changed move: handed off/m);
    expect(r.stdout).toMatch(/^added add$/m);
    expect(r.stdout).toMatch(new RegExp(`^closed go socket 127\\.0\\.0\\.1:${goPort}$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^closed move socket 127\\.0\\.0\\.1:${movePort}$`, 'm'));

    expect(await waitForHttp(addPort)).toMatch(/^\d+\n$/);
    expect(await waitForHttp(movedPort)).toMatch(/^\d+\n$/);
    expect(await tcpConnects(goPort)).toBe(false);
    expect(await tcpConnects(movePort)).toBe(false);
    await waitFor(() => !readdirSync('/proc').includes(goPid), { timeoutMs: 10_000, what: `removed unit's pid ${goPid} to exit` });
    // The unit nobody touched: same child, same socket.
    expect((await httpGet(keepPort)).body.trim()).toBe(keepPid);
    expect(listeningInode(keepPort)).toBe(keepInode);

    const status = JSON.parse((await launcher.cli(['status', '--json'])).stdout) as { units: { name: string; state: string; sockets: { local: string }[] }[] };
    // (Sorted here: after a reload, status lists added units last rather than by name.)
    const rows = status.units.map((u) => [u.name, u.state, u.sockets.map((s) => s.local)] as const);
    expect(rows.sort((a, b) => a[0].localeCompare(b[0]))).toEqual([
      ['add', 'running', [`127.0.0.1:${addPort}`]],
      ['keep', 'running', [`127.0.0.1:${keepPort}`]],
      ['move', 'running', [`127.0.0.1:${movedPort}`]],
    ]);
  }, 60_000);
});

describe('a reload whose rolling handoff fails partway', () => {
  const FLEET_SERVICE = path.join(FIXTURES, 'e2e/fleet/fleet-service.mjs');
  // Each instance reads its own mode file, so one new instance can be broken and the other not.
  const fleetUnit = (port: number, dir: string): string =>
    [
      '[service]',
      `exec = ["sh", "-c", ${JSON.stringify(`MODE_FILE=${dir}/mode-$LAUNCHER_INSTANCE exec node ${FLEET_SERVICE}`)}]`,
      'ready = "notify"',
      'ready_timeout = "5s"',
      'instances = 2',
      'restart_delay = "50ms"',
      '[[socket]]',
      `listen = "127.0.0.1:${port}"`,
      '',
    ].join('\n');

  it('keeps the new spec\'s socket for the instances that swapped, so they can restart on it', async () => {
    const [oldPort, newPort] = [await freePort(), await freePort()];
    const units = makeUnitDir({});
    cleanups.push(units.cleanup);
    for (const i of [0, 1]) writeFileSync(path.join(units.dir, `mode-${i}`), 'ok');
    writeFileSync(path.join(units.unitsDir, 'web.toml'), fleetUnit(oldPort, units.dir));
    const launcher = await startLauncher(units.unitsDir);
    // Both instances ready (a reload during the start would be refused as busy).
    await waitFor(async () => (await unitStatus(launcher, 'web')).state === 'running', { timeoutMs: 15_000, what: 'web running' });
    await waitForHttp(oldPort);

    // Move the unit to a new port; only the new instance 1 is broken.
    writeFileSync(path.join(units.dir, 'mode-1'), 'broken');
    writeFileSync(path.join(units.unitsDir, 'web.toml'), fleetUnit(newPort, units.dir));
    const r = await reload(launcher);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/handoff failed partway/);

    // Instance 0 runs the new spec on the new port; the old instance 1 still serves the old one.
    const swapped = Number((await waitForHttp(newPort)).trim());
    expect(Number((await waitForHttp(oldPort)).trim())).toBeGreaterThan(0);

    // The swapped instance dies; its restart must get the new port's socket again.
    process.kill(swapped, 'SIGKILL');
    const again = await waitFor(
      async () => {
        const body = (await httpGet(newPort)).body.trim();
        return Number(body) !== swapped ? Number(body) : undefined;
      },
      { timeoutMs: 15_000, what: 'a restarted instance 0 on the new port' },
    );
    expect(again).toBeGreaterThan(0);
  }, 60_000);
});
