// End to end: readiness over NOTIFY_SOCKET as real clients send it —
// systemd-notify from a shell service (credited to its parent, the service),
// and datagrams the launcher must ignore: from a foreign process, over 4096
// bytes, or holding a NUL byte.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, cleanupLaunchers, makeUnitDir, startLauncher, unitStatus } from '../helpers/launcher.js';
import { waitFor } from '../helpers/wait.js';
import { requirePeers } from '../helpers/peers.js';

const MISBEHAVE = path.join(FIXTURES, 'e2e/restart/notify-misbehave.py');

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  for (const c of cleanups.splice(0)) c();
});

/** The NOTIFY_SOCKET a process was started with, from its environment. */
function notifySocketOf(pid: number): string {
  const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  const entry = env.find((e) => e.startsWith('NOTIFY_SOCKET='));
  if (!entry) throw new Error(`pid ${pid} has no NOTIFY_SOCKET`);
  return entry.slice('NOTIFY_SOCKET='.length);
}

describe('readiness from real notify clients', () => {
  it('systemd-notify --ready from a shell service makes the unit running (credited to the shell, the service pid)', async (context) => {
    requirePeers(context, 'systemd');
    const units = makeUnitDir({
      sh: ['[service]', 'exec = ["/bin/sh", "-c", "systemd-notify --ready --status=shell-ready; exec sleep 1000"]', 'ready = "notify"', 'ready_timeout = "20s"'].join('\n'),
    });
    cleanups.push(units.cleanup);
    const launcher = await startLauncher(units.unitsDir);
    await launcher.waitForLine(/^sh\[\d+\]: .*starting -> running \(READY=1\)/);
    const status = await unitStatus(launcher, 'sh');
    expect(status.state).toBe('running');
    expect(status.statusText).toBe('shell-ready');
    const [pid] = status.pids;
    // systemd-notify returned (its BARRIER=1 fd was closed by the launcher), so the shell exec'd sleep in place.
    await waitFor(() => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep', { timeoutMs: 10_000, what: 'the service to exec sleep' });
    expect(launcher.lines.some((l) => /ignoring/.test(l))).toBe(false);
  }, 30_000);

  it('ignores (and logs) datagrams from a foreign pid, over 4096 bytes or holding NUL; the real READY=1 still counts', async (context) => {
    requirePeers(context, 'python3');
    const units = makeUnitDir({
      nb: ['[service]', `exec = ["/usr/bin/python3", ${JSON.stringify(MISBEHAVE)}]`, 'ready = "notify"', 'ready_timeout = "60s"', 'env = { GO = "go" }'].join('\n'),
    });
    cleanups.push(units.cleanup);
    const launcher = await startLauncher(units.unitsDir);
    // STATUS=after-bad is sent after the two bad READY=1 datagrams on the same socket: once it shows, they were handled.
    const afterBad = await waitFor(
      async () => {
        const s = await unitStatus(launcher, 'nb');
        return s.statusText === 'after-bad' ? s : undefined;
      },
      { timeoutMs: 15_000, what: 'STATUS=after-bad' },
    );
    expect(afterBad.state).toBe('starting');
    await launcher.waitForLine(/^nb\[\d+\]: .*notify datagram .*over 4096 bytes.*ignoring/);
    await launcher.waitForLine(/^nb\[\d+\]: .*notify datagram .*NUL byte.*ignoring/);

    // A foreign process (this test's python3 child) says READY=1 on the unit's socket.
    const [pid] = afterBad.pids;
    expect(pid).toBeGreaterThan(0);
    const address = notifySocketOf(pid!);
    const sent = await execa('/usr/bin/python3', [
      '-c',
      'import socket,sys; a=sys.argv[1]; a="\\0"+a[1:] if a.startswith("@") else a; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", a); print("sent")',
      address,
    ]);
    expect(sent.stdout).toBe('sent');
    await launcher.waitForLine(/^nb.*notify message from pid \d+, which is not one of its processes, ignoring/);
    expect((await unitStatus(launcher, 'nb')).state).toBe('starting');

    // The service's own READY=1 is accepted.
    writeFileSync(path.join(units.unitsDir, 'go'), '');
    await launcher.waitForLine(/^nb\[\d+\]: .*starting -> running \(READY=1\)/);
    const ready = await unitStatus(launcher, 'nb');
    expect(ready.state).toBe('running');
    expect(ready.pids).toEqual([pid]);
    expect(ready.statusText).toBe('ready');
  }, 40_000);
});
