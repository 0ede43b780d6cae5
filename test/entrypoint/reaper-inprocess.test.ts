// Reaper inside the test process: children started with posix_spawnp (unknown to
// libuv) stand in for orphans; the reaper must take only those isOwnChild leaves it.
import { afterEach, describe, expect, it } from 'vitest';
import { Reaper } from '../../src/entrypoint/reaper.js';
import { readProcStat, waitpidNoHang, zombieChildPids } from '../../src/sys/process.js';
import { rawSpawn } from '../helpers/raw-spawn.js';
import { waitFor } from '../helpers/wait.js';

const orphans = new Set<number>();
const reapers: Reaper[] = [];

afterEach(() => {
  for (const reaper of reapers.splice(0)) reaper.stop();
  for (const pid of orphans) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    while (readProcStat(pid) && !waitpidNoHang(pid));
  }
  orphans.clear();
});

/** A stand-in orphan: ends at once, leaving a zombie nobody else waits for. */
function orphan(exitCode: number): number {
  const pid = rawSpawn(['sh', '-c', `exit ${exitCode}`]);
  orphans.add(pid);
  return pid;
}

/** Everything that is not one of this test's stand-in orphans counts as "ours" (libuv's). */
function makeReaper(options: { claim?: Set<number>; sweepIntervalMs?: number; minZombieAgeMs?: number } = {}) {
  const claim = options.claim ?? new Set<number>();
  const lines: string[] = [];
  const reaper = new Reaper({
    isOwnChild: (pid) => !orphans.has(pid) || claim.has(pid),
    sweepIntervalMs: options.sweepIntervalMs ?? 600_000,
    minZombieAgeMs: options.minZombieAgeMs,
    log: (line) => lines.push(line),
  });
  reapers.push(reaper);
  return { reaper, lines };
}

describe('Reaper (in process)', () => {
  it('sweep reaps unclaimed zombies and leaves claimed ones alone', async () => {
    const a = orphan(4);
    const claimed = orphan(5);
    await waitFor(() => zombieChildPids().includes(a) && zombieChildPids().includes(claimed), { what: 'zombies' });
    const { reaper, lines } = makeReaper({ claim: new Set([claimed]) });
    expect(reaper.sweep()).toBe(1);
    expect(reaper.reaped).toBe(1);
    expect(readProcStat(a)).toBeUndefined();
    expect(readProcStat(claimed)?.state).toBe('Z');
    expect(lines).toEqual([`reaped orphan ${a} (exit status 4)`]);
    expect(reaper.sweep()).toBe(0);
  });

  it('start() reaps on SIGCHLD without waiting for the periodic sweep', async () => {
    const { reaper } = makeReaper({ sweepIntervalMs: 600_000 });
    reaper.start();
    const pids = [orphan(0), orphan(1), orphan(2)];
    await waitFor(() => reaper.reaped === 3, { what: 'three reaped', timeoutMs: 5000 });
    for (const pid of pids) expect(readProcStat(pid)).toBeUndefined();
  });

  it('the periodic sweep catches zombies that appeared while no SIGCHLD handler ran', async () => {
    const pid = orphan(6);
    await waitFor(() => zombieChildPids().includes(pid), { what: 'zombie' });
    const { reaper } = makeReaper({ sweepIntervalMs: 50 });
    reaper.start();
    await waitFor(() => reaper.reaped === 1, { what: 'sweep', timeoutMs: 5000 });
  });

  it('minZombieAgeMs spares a fresh zombie, then reaps it once it is old enough', async () => {
    const pid = orphan(7);
    await waitFor(() => zombieChildPids().includes(pid), { what: 'zombie' });
    const { reaper } = makeReaper({ minZombieAgeMs: 100 });
    expect(reaper.sweep()).toBe(0);
    expect(readProcStat(pid)?.state).toBe('Z');
    await waitFor(() => reaper.sweep() === 1, { what: 'aged zombie reaped', timeoutMs: 5000 });
    expect(readProcStat(pid)).toBeUndefined();
  });

  it('stop() removes its SIGCHLD listener and is idempotent', () => {
    const before = process.listenerCount('SIGCHLD');
    const { reaper } = makeReaper();
    reaper.start();
    reaper.start();
    expect(process.listenerCount('SIGCHLD')).toBe(before + 1);
    reaper.stop();
    reaper.stop();
    expect(process.listenerCount('SIGCHLD')).toBe(before);
  });
});
