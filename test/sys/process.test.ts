// sys/process: wait-status decoding, waitpid(WNOHANG) on a real child libuv does not
// know (posix_spawnp), and the /proc readers the reaper relies on.
import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import {
  childPids,
  decodeWaitStatus,
  getpid,
  isChildSubreaper,
  readProcStat,
  waitpidNoHang,
  zombieChildPids,
} from '../../src/sys/process.js';
import { rawSpawn } from '../helpers/raw-spawn.js';
import { waitFor } from '../helpers/wait.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { E } from '../../src/sys/errno.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A raw child that is reaped (killed first if need be) when the test ends. */
function spawnTracked(argv: string[]): number {
  const pid = rawSpawn(argv);
  cleanups.push(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    while (readProcStat(pid) && !waitpidNoHang(pid));
  });
  return pid;
}

describe('decodeWaitStatus', () => {
  it('splits exit codes and signals like WEXITSTATUS / WTERMSIG', () => {
    expect(decodeWaitStatus(0)).toEqual({ code: 0, signal: null });
    expect(decodeWaitStatus(42 << 8)).toEqual({ code: 42, signal: null });
    expect(decodeWaitStatus(255 << 8)).toEqual({ code: 255, signal: null });
    expect(decodeWaitStatus(15)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(decodeWaitStatus(9 | 0x80)).toEqual({ code: null, signal: 'SIGKILL' }); // core dumped bit
  });
});

describe('waitpidNoHang', () => {
  it('returns null while the child runs, then reaps it with its exit code', async () => {
    const running = spawnTracked(['sleep', '30']);
    expect(waitpidNoHang(running)).toBeNull();
    expect(readProcStat(running)?.state).not.toBe('Z');
    const reaped = spawnTracked(['sh', '-c', 'exit 42']);
    const result = await waitFor(() => waitpidNoHang(reaped), { what: 'child to exit' });
    expect(result).toMatchObject({ pid: reaped, code: 42, signal: null });
    expect(readProcStat(reaped)).toBeUndefined();
  });

  it('reports the signal that killed the child', async () => {
    const pid = spawnTracked(['sleep', '30']);
    process.kill(pid, 'SIGTERM');
    const result = await waitFor(() => waitpidNoHang(pid), { what: 'child to die' });
    expect(result).toMatchObject({ pid, code: null, signal: 'SIGTERM' });
  });

  it('returns null for a pid that is not our child, and refuses wildcard pids', () => {
    expect(waitpidNoHang(1)).toBeNull();
    expect(waitpidNoHang(-1)).toBe(-E.EINVAL);
    expect(waitpidNoHang(0)).toBe(-E.EINVAL);
  });
});

describe('/proc readers', () => {
  it('getpid matches process.pid and readProcStat reads our own line', () => {
    expect(getpid()).toBe(process.pid);
    const self = readProcStat('self');
    expect(self?.pid).toBe(process.pid);
    expect(self?.ppid).toBe(process.ppid);
    expect(self?.state).toMatch(/^[RS]$/);
    expect(typeof isChildSubreaper()).toBe('boolean');
  });

  it('parses a command name holding spaces and parentheses', async () => {
    const { dir, cleanup } = makeTmpDir();
    cleanups.push(cleanup);
    const odd = path.join(dir, 'a) (b c');
    symlinkSync('/bin/sleep', odd);
    const pid = spawnTracked([odd, '30']);
    const stat = await waitFor(
      () => {
        const current = readProcStat(pid);
        return current?.comm === 'a) (b c' ? current : undefined;
      },
      { what: 'exec' },
    );
    expect(stat).toMatchObject({ pid, comm: 'a) (b c', ppid: process.pid });
    expect(stat.state).toMatch(/^[RS]$/);
  });

  it('lists direct children, and zombies among them until they are reaped', async () => {
    const sleeper = execa('sleep', ['30']);
    cleanups.push(() => sleeper.kill('SIGKILL'));
    const quick = spawnTracked(['sh', '-c', 'exit 3']);
    await waitFor(() => zombieChildPids().includes(quick), { what: 'zombie' });
    expect(childPids()).toEqual(expect.arrayContaining([sleeper.pid, quick]));
    expect(zombieChildPids()).not.toContain(sleeper.pid);
    expect(waitpidNoHang(quick)).toMatchObject({ code: 3 });
    expect(childPids()).not.toContain(quick);
    sleeper.kill('SIGKILL');
    await sleeper.catch(() => undefined);
  });
});
