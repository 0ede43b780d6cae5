// End to end: the launcher as PID 1 of a fresh pid namespace, and as a subreaper
// when it is not: every orphan reaped, and never an exit event of its own services lost.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupLaunchers, cli, makeUnitDir, startLauncher } from '../helpers/launcher.js';
import { waitFor } from '../helpers/wait.js';
import {
  UNSHARE_PID1,
  cleanupWrapped,
  commandLine,
  namespaceMembers,
  nsPids,
  procStat,
  processExists,
  startWrapped,
  zombieChildrenOf,
} from '../helpers/wrapped.js';

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupWrapped();
  await cleanupLaunchers();
  cleanups.splice(0).forEach((c) => c());
});

function unitDir(units: Record<string, string>, files: Record<string, string> = {}): ReturnType<typeof makeUnitDir> {
  const made = makeUnitDir(units, files);
  cleanups.push(made.cleanup);
  return made;
}

const CYCLES = 300;

// Each start counts itself in ./count, leaves two orphans (double fork: the subshell
// exits at once, so `sleep` is re-parented to PID 1) and fails, until start CYCLES+1
// settles for good. Orphans do not hold the output pipes, so exits are seen at once.
const CYCLER = `
n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count
(sleep 0.05 </dev/null >/dev/null 2>&1 &)
(sleep 0.05 </dev/null >/dev/null 2>&1 &)
if [ $n -gt ${CYCLES} ]; then echo settled; exec sleep 1000; fi
exit 1
`;

describe('launcher up as PID 1 of a pid namespace', () => {
  it(`reaps ${2 * CYCLES} orphans over ${CYCLES} supervised restarts and loses no exit`, async () => {
    const { dir, unitsDir } = unitDir(
      {
        cyc: `[service]
exec = ["sh", "cycler.sh"]
restart = "on-failure"
ready_after = "0"
restart_delay = "10ms"
restart_delay_max = "10ms"
start_limit_burst = 100000
start_limit_interval = "1s"
`,
      },
      { 'cycler.sh': CYCLER },
    );
    const control = path.join(dir, 'ctl', 'control.sock');
    const launcher = await startWrapped(UNSHARE_PID1, ['up', '--units', unitsDir, '--control', control], { cwd: dir, launcherIsChild: true });
    expect(nsPids(launcher.pid)).toEqual([launcher.pid, 1]);

    await launcher.waitForLine(/settled/, 55_000);
    // Every start but the last failed, and the launcher saw each of those exits.
    const exits = launcher.lines.filter((l) => /running -> backoff \(exit status 1\b/.test(l));
    expect(exits).toHaveLength(CYCLES);
    expect(readFileSync(path.join(unitsDir, 'count'), 'utf8').trim()).toBe(String(CYCLES + 1));

    // Once the last orphans' 50 ms are up, the namespace holds the launcher and the settled service only.
    const members = await waitFor(
      () => {
        const left = namespaceMembers(launcher.pid);
        return left.length === 2 ? left : undefined;
      },
      { timeoutMs: 10_000, what: 'orphans to be reaped (only the launcher and the service left)' },
    );
    expect(zombieChildrenOf(launcher.pid)).toEqual([]);
    const service = members.find((pid) => pid !== launcher.pid)!;
    expect(commandLine(service)).toMatch(/^sleep 1000/);
    expect(procStat(service)?.state).not.toBe('Z');

    // The status the launcher reports is consistent with what is really running.
    const status = await cli(['status', '--json', '--control', control]);
    expect(status.exitCode).toBe(0);
    const unit = (JSON.parse(status.stdout) as { units: { name: string; state: string; pids: number[]; restarts: number }[] }).units[0]!;
    expect(unit).toMatchObject({ name: 'cyc', state: 'running', restarts: CYCLES });
    expect(unit.pids).toEqual([nsPids(service).at(-1)]);

    launcher.signal('SIGTERM');
    expect(await launcher.exited).toBe(0);
    expect(processExists(service)).toBe(false);
  }, 90_000);
});

describe('launcher upgrade as PID 1', () => {
  it('stays PID 1 across the exec, keeps its service, and goes on reaping orphans', async () => {
    const { dir, unitsDir } = unitDir(
      { svc: `[service]\nexec = ["sh", "orphans.sh"]\nrestart = "always"\nrestart_delay = "100ms"\n` },
      // Each start leaves an orphan that outlives it by 50 ms, then serves (sleeps).
      { 'orphans.sh': `(sleep 0.05 </dev/null >/dev/null 2>&1 &)\nexec sleep 1000\n` },
    );
    const control = path.join(dir, 'ctl', 'control.sock');
    const launcher = await startWrapped(UNSHARE_PID1, ['up', '--units', unitsDir, '--control', control], { cwd: dir, launcherIsChild: true });
    const status = async (): Promise<{ launcher: { pid: number; upgrades: number }; units: { state: string; pids: number[]; restarts: number }[] }> =>
      JSON.parse((await cli(['status', '--json', '--control', control])).stdout);
    // Running (its start done): an upgrade during a start is refused as busy.
    const before = await waitFor(async () => ((await status()).units[0]?.state === 'running' ? status() : undefined), { what: 'the service' });
    expect(before.launcher.pid).toBe(1);
    launcher.signal('SIGUSR2');
    await launcher.waitForLine(/upgraded in place/, 20_000);
    expect(nsPids(launcher.pid)).toEqual([launcher.pid, 1]);
    const after = await status();
    expect(after.launcher).toMatchObject({ pid: 1, upgrades: 1 });
    expect(after.units[0]!.pids).toEqual(before.units[0]!.pids);
    // Its service ends: the new code sees that exit (reaped as an adopted child), restarts it, and reaps the new orphan.
    const service = namespaceMembers(launcher.pid).find((pid) => commandLine(pid).startsWith('sleep 1000'))!;
    process.kill(service, 'SIGKILL');
    await waitFor(async () => (await status()).units[0]!.restarts === 1 && (await status()).units[0]!.pids.length === 1, { timeoutMs: 15_000, what: 'the restart' });
    await waitFor(() => namespaceMembers(launcher.pid).length === 2 && zombieChildrenOf(launcher.pid).length === 0, {
      timeoutMs: 10_000,
      what: 'the orphan reaped after the upgrade',
    });
    launcher.signal('SIGTERM');
    expect(await launcher.exited).toBe(0);
  }, 60_000);
});

describe('launcher up when it is not PID 1', () => {
  // The service double-forks a helper that records its pid and outlives the fork by 1 s.
  const LEAVE_ORPHAN = `
(sh -c 'echo $$ > orphan.pid; exec sleep 1' </dev/null >/dev/null 2>&1 &)
echo forked
`;

  it('adopts an orphan as subreaper and reaps it when it exits', async () => {
    const { unitsDir } = unitDir(
      { parent: `[service]\nexec = ["sh", "-c", ". ./leave-orphan.sh; exec sleep 1000"]\n` },
      { 'leave-orphan.sh': LEAVE_ORPHAN },
    );
    const launcher = await startLauncher(unitsDir);
    await launcher.waitForLine(/parent\[\d+\] forked/);
    const orphan = await waitFor(() => Number(readFileSync(path.join(unitsDir, 'orphan.pid'), 'utf8').trim()) || undefined, {
      what: 'orphan.pid',
    });
    // Re-parented to the launcher (the subreaper), not to the machine's init.
    await waitFor(() => procStat(orphan)?.ppid === launcher.pid, { what: `orphan ${orphan} to be the launcher's child` });
    // It exits after 1 s and must then vanish, not linger as a zombie.
    await waitFor(() => !processExists(orphan), { timeoutMs: 8000, what: `orphan ${orphan} to be reaped` });
    expect(zombieChildrenOf(launcher.pid)).toEqual([]);
    expect(await launcher.stop('SIGTERM')).toBe(0);
  });

  it("still sees its own service's exit (the reaper never steals it) and exits with its status", async () => {
    const { unitsDir } = unitDir(
      { once: `[service]\nexec = ["sh", "-c", ". ./leave-orphan.sh; exit 3"]\nrestart = "no"\n` },
      { 'leave-orphan.sh': LEAVE_ORPHAN },
    );
    const launcher = await startLauncher(unitsDir);
    // The orphan outlives the service by ~1 s; the launcher waits for it, then exits with the service's 3.
    expect(await launcher.exited).toBe(3);
    const orphan = Number(readFileSync(path.join(unitsDir, 'orphan.pid'), 'utf8').trim());
    expect(processExists(orphan)).toBe(false);
    expect(launcher.lines.join('\n')).toMatch(/exit status 3/);
  });
});
