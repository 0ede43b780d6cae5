// AdoptedChildren: the services an in-place upgrade (execve) carries over. libuv never
// spawned them, so their exit comes from the reaper (reaped()), their output from the
// pipe read ends the old code held. Checked: has/reaped bookkeeping and the launcher's
// pid set, an exit the previous process had already reaped, output relayed and kept in
// lastLines before `exited` settles, and kill() on the process group (a no-op once
// reaped, silent for a group that is gone).
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { AdoptedChildren } from '../../src/entrypoint/adopted.js';
import type { OutputLine } from '../../src/supervisor/spawn-output.js';
import type { AdoptedChildSpec } from '../../src/supervisor/snapshot.js';
import { close, write } from '../../src/sys/libc.js';
import { pipeCloexec } from '../../src/sys/pipe.js';
import { must, ok } from '../helpers/sys.js';
import { withDeadline } from '../helpers/wait.js';

/** Above the kernel's PID_MAX_LIMIT (2^22): no process or group can have it. */
const NO_SUCH_PID = 4_194_305;
const TAG = { unit: 'web', instance: 0 };

const spawned: ChildProcess[] = [];
afterEach(async () => {
  for (const c of spawned.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await withDeadline(gone, 5000, `pid ${c.pid} to exit`);
  }
});

function spec(pid: number, extra: Partial<AdoptedChildSpec> = {}): AdoptedChildSpec {
  return { pid, stdout: -1, stderr: -1, lastLines: [], exit: null, ...extra };
}

/** `sleep 30` as the leader of its own process group, as a service is. */
function groupLeader(): ChildProcess & { pid: number } {
  const c = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  spawned.push(c);
  if (c.pid === undefined) throw new Error('spawn failed');
  return c as ChildProcess & { pid: number };
}

describe('AdoptedChildren', () => {
  it('tracks an adopted pid until reaped() reports it, then settles exited with its status', async () => {
    const adopted = new AdoptedChildren();
    const pids = new Set<number>();
    const child = adopted.adopt(spec(NO_SUCH_PID), TAG, () => {}, pids);
    expect(child.pid).toBe(NO_SUCH_PID);
    expect(adopted.has(NO_SUCH_PID)).toBe(true);
    expect(pids.has(NO_SUCH_PID)).toBe(true);

    expect(adopted.reaped({ pid: NO_SUCH_PID + 1, status: 0, code: 0, signal: null })).toBe(false);
    expect(adopted.has(NO_SUCH_PID)).toBe(true);

    expect(adopted.reaped({ pid: NO_SUCH_PID, status: 9, code: null, signal: 'SIGKILL' })).toBe(true);
    expect(adopted.has(NO_SUCH_PID)).toBe(false);
    expect(pids.has(NO_SUCH_PID)).toBe(false);
    expect(await withDeadline(child.exited, 5000, 'exited')).toEqual({ code: null, signal: 'SIGKILL' });
    // Reported once only: a second report is not an adopted child's any more.
    expect(adopted.reaped({ pid: NO_SUCH_PID, status: 0, code: 0, signal: null })).toBe(false);
  });

  it('settles at once for a child the previous process had reaped already', async () => {
    const adopted = new AdoptedChildren();
    const pids = new Set<number>();
    const child = adopted.adopt(spec(NO_SUCH_PID, { exit: { code: 3, signal: null }, lastLines: ['bye'] }), TAG, () => {}, pids);
    expect(adopted.has(NO_SUCH_PID)).toBe(false);
    expect(pids.size).toBe(0);
    expect(await withDeadline(child.exited, 5000, 'exited')).toEqual({ code: 3, signal: null });
    expect(child.lastLines()).toEqual(['bye']);
    expect(adopted.reaped({ pid: NO_SUCH_PID, status: 0, code: 0, signal: null })).toBe(false);
  });

  it('relays the pipes to the end, tagged with unit, instance and pid, before exited settles', async () => {
    const [stdoutRead, stdoutWrite] = ok(pipeCloexec(), 'pipe2');
    const [stderrRead, stderrWrite] = ok(pipeCloexec(), 'pipe2');
    const adopted = new AdoptedChildren();
    const lines: OutputLine[] = [];
    const child = adopted.adopt(
      spec(NO_SUCH_PID, { stdout: stdoutRead, stderr: stderrRead, lastLines: ['from the old code'] }),
      { unit: 'api', instance: 2 },
      (line) => lines.push(line),
      new Set(),
    );
    expect(child.outputFds).toEqual({ stdout: stdoutRead, stderr: stderrRead });
    must(write(stdoutWrite, Buffer.from('one\ntwo\npartial')), 'write');
    must(write(stderrWrite, Buffer.from('oops\n')), 'write');
    close(stdoutWrite);
    close(stderrWrite);
    adopted.reaped({ pid: NO_SUCH_PID, status: 0, code: 0, signal: null });
    expect(await withDeadline(child.exited, 5000, 'exited')).toEqual({ code: 0, signal: null });
    // Nothing was read before reaped(): these lines prove exited waited for the output.
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['one', 'two', 'partial']);
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.text)).toEqual(['oops']);
    expect(lines.every((l) => l.unit === 'api' && l.instance === 2 && l.pid === NO_SUCH_PID)).toBe(true);
    expect(child.lastLines()[0]).toBe('from the old code');
    expect([...child.lastLines()].sort()).toEqual(['from the old code', 'one', 'oops', 'partial', 'two']);
    expect(child.outputFds).toEqual({ stdout: -1, stderr: -1 });
  });

  it('kill() signals the process group while the child is adopted', async () => {
    const leader = groupLeader();
    const child = new AdoptedChildren().adopt(spec(leader.pid), TAG, () => {}, new Set());
    const exit = new Promise<NodeJS.Signals | null>((r) => leader.once('exit', (_code, signal) => r(signal)));
    child.kill('SIGTERM');
    expect(await withDeadline(exit, 5000, 'the group leader to exit')).toBe('SIGTERM');
  });

  it('kill() is a no-op once the child was reaped, and silent for a group that is gone', () => {
    const leader = groupLeader();
    const adopted = new AdoptedChildren();
    const child = adopted.adopt(spec(leader.pid), TAG, () => {}, new Set());
    adopted.reaped({ pid: leader.pid, status: 0, code: 0, signal: null });
    child.kill('SIGKILL');
    expect(() => process.kill(leader.pid, 0)).not.toThrow();
    expect(leader.exitCode).toBeNull();
    expect(leader.signalCode).toBeNull();

    const gone = adopted.adopt(spec(NO_SUCH_PID), TAG, () => {}, new Set());
    expect(() => gone.kill('SIGTERM')).not.toThrow();
  });

  // Child.reapedStatus (src/supervisor/contract.ts): how it ended, once reaped, even before
  // `exited` settles. A second upgrade while an adopted child's output is still draining
  // must carry that exit, or the next process waits for a reaper report that never comes.
  it('reports reapedStatus() once reaped, before exited settles', () => {
    const [readEnd, writeEnd] = ok(pipeCloexec(), 'pipe2');
    const adopted = new AdoptedChildren();
    const child = adopted.adopt(spec(NO_SUCH_PID, { stdout: readEnd }), TAG, () => {}, new Set());
    try {
      expect(child.reapedStatus?.()).toBeNull();
      adopted.reaped({ pid: NO_SUCH_PID, status: 256, code: 1, signal: null });
      expect(child.reapedStatus?.()).toEqual({ code: 1, signal: null });
    } finally {
      close(writeEnd);
    }
  });
});
