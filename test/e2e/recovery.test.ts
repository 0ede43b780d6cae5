// Crash recovery end to end: SIGKILL the launcher while a client loads its socket,
// start `up` again at once with the same control socket, and see the new generation
// take the very same socket from the old services, start its own, and stop the old.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, cleanupLaunchers, makeUnitDir, startLauncher, statusJson, waitForAllRunning, type RunningLauncher } from '../helpers/launcher.js';
import { startLoad } from '../helpers/load.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

const HTTP_SERVICE = path.join(FIXTURES, 'e2e/http-service.mjs');
const cleanups: (() => void)[] = [];

afterEach(async () => {
  await cleanupLaunchers();
  cleanups.splice(0).forEach((c) => c());
});

/** Whether `pid` runs (a zombie, waiting for whoever inherited it to reap it, has ended). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function readlinkSafe(file: string): string | null {
  try {
    return readlinkSync(file);
  } catch {
    return null;
  }
}

/** The inodes ("socket:[N]") of the sockets process `pid` holds. */
function socketsOf(pid: number): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const target = readlinkSafe(`/proc/${pid}/fd/${fd}`);
    if (target?.startsWith('socket:')) out.add(target);
  }
  return out;
}

/**
 * A launcher running two instances of `exec` on a fresh port; `whileUp` runs before the
 * launcher is SIGKILLed (a load, say); then `up` starts again on the same units and control socket.
 */
async function crashAndRecover(
  exec: string[],
  whileUp: (port: number) => Promise<void> = async () => {},
): Promise<{ second: RunningLauncher; port: number; oldPids: number[]; listenInode: string }> {
  const port = await freePort();
  const unit = `[service]\nexec = ${JSON.stringify(exec)}\nready = "notify"\ninstances = 2\nstop_timeout = "3s"\n[[socket]]\nlisten = "127.0.0.1:${port}"\n`;
  const { unitsDir, cleanup } = makeUnitDir({ web: unit });
  cleanups.push(cleanup);
  const first = await startLauncher(unitsDir);
  await waitForAllRunning(first);
  const oldPids = (await statusJson(first)).units[0]!.pids;
  // The listening socket: the one inode both services hold at fd 3.
  const listenInode = readlinkSync(`/proc/${oldPids[0]}/fd/3`);
  await whileUp(port);
  process.kill(first.pid, 'SIGKILL');
  await first.exited;
  const second = await startLauncher(unitsDir);
  return { second, port, oldPids, listenInode };
}

describe('after the launcher is killed', () => {
  it('a new `up` takes the same socket from the old services, under load: no request fails, the old generation is stopped', async () => {
    let load!: ReturnType<typeof startLoad>;
    const { second, oldPids, listenInode } = await crashAndRecover(['node', HTTP_SERVICE], async (port) => {
      load = startLoad(port, { concurrency: 4 });
      await waitFor(() => load.report.ok > 20, { timeoutMs: 10_000, what: 'load before the crash' });
    });
    await second.waitForLine(/took over the sockets of the previous generation/);
    await waitForAllRunning(second);
    await second.waitForLine(/the previous generation has stopped/, 20_000);
    const served = load.report.ok;
    await waitFor(() => load.report.ok > served + 20, { timeoutMs: 10_000, what: 'load after the recovery' });
    const report = await load.stop();
    expect(report.failed, report.errors.join('\n')).toBe(0);
    // The same open socket, now held by the new launcher and its services.
    expect(socketsOf(second.pid).has(listenInode)).toBe(true);
    const newPids = (await statusJson(second)).units[0]!.pids;
    for (const pid of newPids) expect(readlinkSync(`/proc/${pid}/fd/3`)).toBe(listenInode);
    // Nothing of the old generation is left.
    for (const pid of oldPids) expect(alive(pid), `old pid ${pid}`).toBe(false);
    // Both generations' processes were served by: old ones before, new ones after.
    expect([...report.bodies.keys()].some((b) => newPids.includes(Number(b.trim())))).toBe(true);
    expect(await second.stop('SIGTERM')).toBe(0);
  }, 90_000);

  it('when the socket cannot be taken (a service moved it off fd 3), stops the old generation first and says so', async () => {
    // python3 keeps serving on a dup of fd 3 and closes fd 3 itself: the recorded fd is no longer the socket.
    const mover = [
      'python3',
      '-c',
      [
        'import os, socket',
        's = socket.socket(fileno=os.dup(3)); os.close(3)',
        'n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); a = os.environ["NOTIFY_SOCKET"]',
        'n.sendto(b"READY=1", "\\0" + a[1:] if a.startswith("@") else a)',
        'while True:',
        '    c, _ = s.accept(); c.recv(1024); c.sendall(b"HTTP/1.0 200 OK\\r\\n\\r\\nold\\n"); c.close()',
      ].join('\n'),
    ];
    const { second, oldPids, listenInode } = await crashAndRecover(mover);
    await second.waitForLine(/stopping the previous generation first, then binding/);
    await waitForAllRunning(second);
    for (const pid of oldPids) expect(alive(pid), `old pid ${pid}`).toBe(false);
    // A new socket, since the old one could not be taken.
    expect(socketsOf(second.pid).has(listenInode)).toBe(false);
    expect(await second.stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('never signals a pid whose start time does not match the one recorded', async () => {
    const port = await freePort();
    const { dir, unitsDir, cleanup } = makeUnitDir({ web: `[service]\nexec = ["node", ${JSON.stringify(HTTP_SERVICE)}]\nready = "notify"\n[[socket]]\nlisten = "127.0.0.1:${port}"\n` });
    cleanups.push(cleanup);
    // A bystander whose pid the file names, with another start time (as if the pid had been recycled).
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    cleanups.push(() => bystander.kill('SIGKILL'));
    const startTime = Number(readFileSync(`/proc/${bystander.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]);
    mkdirSync(path.join(dir, 'ctl'), { mode: 0o700 });
    const forged = {
      format: 'socket-launcher/generation',
      version: 1,
      launcher: { pid: bystander.pid, startTime: startTime + 1 },
      units: [{ name: 'web', stopSignal: 'SIGTERM', stopTimeoutMs: 1000, sockets: [], processes: [{ pid: bystander.pid, startTime: startTime + 1 }] }],
      previous: [],
    };
    writeFileSync(path.join(dir, 'ctl/control.sock.state'), JSON.stringify(forged));
    const launcher = await startLauncher(unitsDir);
    await waitForAllRunning(launcher);
    expect(alive(bystander.pid!)).toBe(true);
    expect(launcher.lines.join('\n')).not.toMatch(/previous generation/);
    expect(await launcher.stop('SIGTERM')).toBe(0);
    expect(alive(bystander.pid!)).toBe(true);
  }, 60_000);

  it('leaves a live launcher\'s processes alone', async () => {
    const port = await freePort();
    const { unitsDir, cleanup } = makeUnitDir({ web: `[service]\nexec = ["node", ${JSON.stringify(HTTP_SERVICE)}]\nready = "notify"\n[[socket]]\nlisten = "127.0.0.1:${port}"\n` });
    cleanups.push(cleanup);
    const first = await startLauncher(unitsDir);
    await waitForAllRunning(first);
    // A second `up` on the same control socket while the first lives: refused, nothing stopped.
    const again = await first.cli(['status']);
    expect(again.exitCode).toBe(0);
    const pids = (await statusJson(first)).units[0]!.pids;
    const dup = startLauncher(unitsDir);
    await expect(dup).rejects.toThrow(/already listening/);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    expect(await first.stop('SIGTERM')).toBe(0);
  }, 60_000);
});
