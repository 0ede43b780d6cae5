// End to end: what SIGTERM (once and twice) and the ignored signals do to `launcher up`,
// as PID 1 of a pid namespace and as an ordinary process.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupLaunchers, FIXTURES, makeUnitDir, startLauncher, waitForHttp } from '../helpers/launcher.js';
import { freePort } from '../helpers/ports.js';
import { UNSHARE_PID1, cleanupWrapped, nsPids, processExists, startWrapped } from '../helpers/wrapped.js';

const HTTP_SERVICE = path.join(FIXTURES, 'e2e/http-service.mjs');
const PID1_FIXTURES = path.join(FIXTURES, 'e2e/pid1');

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupWrapped();
  await cleanupLaunchers();
  cleanups.splice(0).forEach((c) => c());
});

function unitDir(units: Record<string, string>): ReturnType<typeof makeUnitDir> {
  const made = makeUnitDir(units);
  cleanups.push(made.cleanup);
  return made;
}

/** The pid in the first `unit[pid] <text>` output line matching `text`. */
function pidOfLine(line: string): number {
  return Number(/\[(\d+)\]/.exec(line)?.[1]);
}

const IGNORES_TERM = (stopTimeout: string): string => `[service]
exec = ["sh", ${JSON.stringify(path.join(PID1_FIXTURES, 'ignore-term.sh'))}]
stop_timeout = "${stopTimeout}"
`;

describe('SIGTERM to launcher up as PID 1', () => {
  it('stops a cooperative service and exits 0 well within the stop timeout', async () => {
    const port = await freePort();
    const { dir, unitsDir } = unitDir({
      web: `[service]\nexec = ["node", ${JSON.stringify(HTTP_SERVICE)}]\nstop_timeout = "10s"\n[[socket]]\nlisten = "127.0.0.1:${port}"\n`,
    });
    const launcher = await startWrapped(UNSHARE_PID1, ['up', '--units', unitsDir, '--control', path.join(dir, 'ctl/c.sock')], {
      cwd: dir,
      launcherIsChild: true,
    });
    expect(nsPids(launcher.pid)).toEqual([launcher.pid, 1]);
    await waitForHttp(port);
    const sent = Date.now();
    launcher.signal('SIGTERM');
    expect(await launcher.exited).toBe(0);
    expect(Date.now() - sent).toBeLessThan(5000);
    expect(launcher.lines.join('\n')).toMatch(/SIGTERM received; stopping every service/);
  });

  it("waits for a grandchild that needs 0.5 s after SIGTERM: its marker exists when the launcher's exit is seen", async () => {
    const { dir, unitsDir } = unitDir({
      family: `[service]\nexec = ["sh", ${JSON.stringify(path.join(PID1_FIXTURES, 'slow-grandchild.sh'))}, "marker"]\nstop_timeout = "5s"\n`,
    });
    const marker = path.join(unitsDir, 'marker');
    const launcher = await startWrapped(UNSHARE_PID1, ['up', '--units', unitsDir, '--control', path.join(dir, 'ctl/c.sock')], {
      cwd: dir,
      launcherIsChild: true,
    });
    await launcher.waitForLine(/grandchild ready/);
    const sent = Date.now();
    launcher.signal('SIGTERM');
    const code = await launcher.exited;
    // Read at once: a PID 1 that exited early would have had the kernel SIGKILL the grandchild mid-sleep.
    const markerText = existsSync(marker) ? readFileSync(marker, 'utf8') : '(no marker)';
    expect(markerText).toBe('done\n');
    expect(Date.now() - sent).toBeGreaterThanOrEqual(500);
    expect(code).toBe(0);
  });

  it('sends SIGTERM to a daemon that left its service for a session of its own, and waits for it', async () => {
    const { dir, unitsDir } = unitDir({
      daemon: `[service]\nexec = ["sh", ${JSON.stringify(path.join(PID1_FIXTURES, 'daemon-graceful.sh'))}, "marker"]\nstop_timeout = "10s"\n`,
    });
    const marker = path.join(unitsDir, 'marker');
    const launcher = await startWrapped(UNSHARE_PID1, ['up', '--units', unitsDir, '--control', path.join(dir, 'ctl/c.sock')], {
      cwd: dir,
      launcherIsChild: true,
    });
    await launcher.waitForLine(/^daemon\[\d+\] armed/);
    const sent = Date.now();
    launcher.signal('SIGTERM');
    const code = await launcher.exited;
    const markerText = existsSync(marker) ? readFileSync(marker, 'utf8') : '(no marker)';
    // Finished by its own SIGTERM handler, not SIGKILLed after the 10 s grace.
    expect(markerText).toBe('done\n');
    expect(Date.now() - sent).toBeLessThan(5000);
    expect(launcher.lines.join('\n')).toMatch(/sending SIGTERM to orphaned process \d+/);
    expect(code).toBe(0);
  });
});

describe('SIGTERM to launcher up', () => {
  it('SIGKILLs a service that ignores SIGTERM after its 1 s stop_timeout, then exits 1 (SPEC: one had to be killed)', async () => {
    const { unitsDir } = unitDir({ stubborn: IGNORES_TERM('1s') });
    const launcher = await startLauncher(unitsDir);
    const service = pidOfLine(await launcher.waitForLine(/^stubborn\[\d+\] armed/));
    const sent = Date.now();
    const code = await launcher.stop('SIGTERM');
    const took = Date.now() - sent;
    expect(code).toBe(1);
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(6000);
    expect(processExists(service)).toBe(false);
    expect(launcher.lines.join('\n')).toMatch(/SIGKILL/);
  });

  it('a second SIGTERM during shutdown kills at once instead of waiting out a 30 s stop_timeout', async () => {
    const { unitsDir } = unitDir({ stubborn: IGNORES_TERM('30s') });
    const launcher = await startLauncher(unitsDir);
    const service = pidOfLine(await launcher.waitForLine(/^stubborn\[\d+\] armed/));
    process.kill(launcher.pid, 'SIGTERM');
    await launcher.waitForLine(/-> stopping/);
    expect(processExists(service)).toBe(true);
    const second = Date.now();
    process.kill(launcher.pid, 'SIGTERM');
    const code = await launcher.exited;
    expect(Date.now() - second).toBeLessThan(5000);
    expect(launcher.lines.join('\n')).toMatch(/SIGTERM again: killing every service now/);
    expect(processExists(service)).toBe(false);
    expect(code).toBe(1); // a service had to be killed
  });

  it('a second SIGTERM also kills at once a daemon that left its service for a session of its own', async () => {
    const { unitsDir } = unitDir({
      daemon: `[service]\nexec = ["sh", ${JSON.stringify(path.join(PID1_FIXTURES, 'daemon-ignores-term.sh'))}, "daemon.pid"]\nstop_timeout = "30s"\n`,
    });
    const launcher = await startLauncher(unitsDir);
    await launcher.waitForLine(/^daemon\[\d+\] armed/);
    const daemon = Number(readFileSync(path.join(unitsDir, 'daemon.pid'), 'utf8').trim());
    expect(processExists(daemon)).toBe(true);
    process.kill(launcher.pid, 'SIGTERM');
    await launcher.waitForLine(/-> stopping/);
    const second = Date.now();
    process.kill(launcher.pid, 'SIGTERM');
    await launcher.exited;
    // Not the 30 s grace an orphan gets after an orderly stop.
    expect(Date.now() - second).toBeLessThan(5000);
    expect(processExists(daemon)).toBe(false);
  });

  it('logs and ignores SIGUSR1, SIGQUIT and SIGWINCH, and keeps serving', async () => {
    const port = await freePort();
    const { unitsDir } = unitDir({
      web: `[service]\nexec = ["node", ${JSON.stringify(HTTP_SERVICE)}]\n[[socket]]\nlisten = "127.0.0.1:${port}"\n`,
    });
    const launcher = await startLauncher(unitsDir);
    const before = await waitForHttp(port);
    for (const signal of ['SIGUSR1', 'SIGQUIT', 'SIGWINCH'] as const) {
      process.kill(launcher.pid, signal);
      await launcher.waitForLine(new RegExp(`${signal} received, ignoring`));
    }
    // The same service process still answers: nothing was forwarded to it.
    expect(await waitForHttp(port)).toBe(before);
    expect(await launcher.stop('SIGTERM')).toBe(0);
  });
});
