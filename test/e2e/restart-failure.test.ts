// End to end: restarts that must roll back (the new child exits at start-up or
// misses ready_timeout) leave the old child serving, and a crash-looping unit
// backs off, ends failed with its socket still open, without disturbing
// other units or burning the launcher's CPU.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, cleanupLaunchers, httpGet, makeUnitDir, startLauncher, waitForHttp, type RunningLauncher, unitStatus, tcpConnects, waitForState } from '../helpers/launcher.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

const MODE_SERVICE = path.join(FIXTURES, 'e2e/restart/mode-service.mjs');
const NODE_SERVICE = path.join(FIXTURES, 'e2e/http-service.mjs');

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  for (const c of cleanups.splice(0)) c();
});

/** utime + stime of `pid` in clock ticks (100 per second on Linux). */
function cpuTicks(pid: number): number {
  // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

describe('a restart that cannot complete rolls back', () => {
  async function upModeService(): Promise<{ launcher: RunningLauncher; port: number; unitsDir: string }> {
    const port = await freePort();
    const units = makeUnitDir(
      {
        web: [
          '[service]',
          `exec = ["node", ${JSON.stringify(MODE_SERVICE)}]`,
          'ready = "notify"',
          'ready_timeout = "1s"',
          '[[socket]]',
          `listen = "127.0.0.1:${port}"`,
        ].join('\n'),
      },
      { 'mode.txt': 'ok\n' },
    );
    cleanups.push(units.cleanup);
    const launcher = await startLauncher(units.unitsDir);
    await waitForHttp(port);
    // Serving is not yet ready: READY=1 (a datagram) may still be on its way, and a restart
    // during the first start is refused as busy.
    await waitForState(launcher, 'web', 'running');
    return { launcher, port, unitsDir: units.unitsDir };
  }

  for (const { mode, reason, lastLine } of [
    { mode: 'exit', reason: /exited before ready \(exit status 3\)/, lastLine: /exiting at start-up as asked/ },
    { mode: 'never-ready', reason: /missed ready_timeout/, lastLine: /serving \(instance 0\)/ },
  ]) {
    it(`new version "${mode}": restart exits 1 saying why, the old pid keeps serving`, async () => {
      const { launcher, port, unitsDir } = await upModeService();
      const oldPid = (await httpGet(port)).body.trim();
      writeFileSync(path.join(unitsDir, 'mode.txt'), `${mode}\n`);
      const r = await launcher.cli(['restart', 'web']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toMatch(reason);
      expect(r.stderr).toMatch(/old child keeps serving/);
      // The new child's last output lines come with the reason.
      expect(r.stderr).toMatch(/its last output:/);
      expect(r.stderr).toMatch(new RegExp(`mode ${mode}`));
      expect(r.stderr).toMatch(lastLine);
      expect((await httpGet(port)).body.trim()).toBe(oldPid);
      const status = await unitStatus(launcher, 'web');
      expect(status.state).toBe('running');
      expect(status.pids).toEqual([Number(oldPid)]);
      // Fixed again, the next restart goes through.
      writeFileSync(path.join(unitsDir, 'mode.txt'), 'ok\n');
      const again = await launcher.cli(['restart', 'web']);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stdout).toMatch(new RegExp(`^web: ${oldPid} → \\d+, ready in`, 'm'));
    }, 30_000);
  }
});

describe('a crash-looping unit', () => {
  it('backs off with growing delays, ends failed, keeps its socket; other units and the CPU stay calm', async () => {
    const [crashPort, webPort] = [await freePort(), await freePort()];
    const units = makeUnitDir({
      crash: [
        '[service]',
        'exec = ["/bin/sh", "-c", "echo crashing; exit 1"]',
        'restart_delay = "50ms"',
        'start_limit_burst = 3',
        'start_limit_interval = "10s"',
        '[[socket]]',
        `listen = "127.0.0.1:${crashPort}"`,
      ].join('\n'),
      web: ['[service]', `exec = ["node", ${JSON.stringify(NODE_SERVICE)}]`, 'ready = "notify"', '[[socket]]', `listen = "127.0.0.1:${webPort}"`].join('\n'),
    });
    cleanups.push(units.cleanup);
    const launcher = await startLauncher(units.unitsDir);
    const webPid = (await waitForHttp(webPort)).trim();

    await launcher.waitForLine(/^crash\[\d+\]: .*-> failed .*start limit hit/);
    const delays = launcher.lines.flatMap((l) => {
      const m = /^crash\[\d+\]: .*restarting in (\d+) ms/.exec(l);
      return m ? [Number(m[1])] : [];
    });
    expect(delays).toEqual([50, 100]);
    expect(launcher.lines.filter((l) => /^crash\[\d+\] crashing$/.test(l))).toHaveLength(3);

    const crash = await unitStatus(launcher, 'crash');
    expect(crash.state).toBe('failed');
    expect(crash.pids).toEqual([]);
    // The socket is still bound and listening: the kernel completes the handshake into the backlog.
    expect(await tcpConnects(crashPort)).toBe(true);

    // The other unit never noticed.
    expect((await httpGet(webPort)).body.trim()).toBe(webPid);
    const web = await unitStatus(launcher, 'web');
    expect(web.state).toBe('running');
    expect(web.pids).toEqual([Number(webPid)]);

    // A failed unit costs the launcher nothing: no polling loop, no respawns.
    const [ticks0, t0] = [cpuTicks(launcher.pid), Date.now()];
    await waitFor(() => Date.now() - t0 >= 3000, { timeoutMs: 10_000, intervalMs: 250, what: '3 s of wall time in failed state' });
    const cpuMs = (cpuTicks(launcher.pid) - ticks0) * 10;
    expect(cpuMs / (Date.now() - t0)).toBeLessThan(0.1);
    expect((await unitStatus(launcher, 'crash')).state).toBe('failed');
    expect(launcher.lines.filter((l) => /^crash\[\d+\] crashing$/.test(l))).toHaveLength(3);
  }, 40_000);
});
