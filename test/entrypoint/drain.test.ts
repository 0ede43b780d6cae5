// drain: the launcher's last duty, that no process of its own outlives it. killGroups
// SIGKILLs each service's process group; waitForChildren waits until the launcher has no
// child left, SIGTERMs once a child in a group of its own that is no service's (an
// orphan that left its group), SIGKILLs what is left after graceMs or once hurry() is
// true, and gives up AFTER_KILL_MS (2 s) after that. Checked with short real children
// of this test process (`sleep`, `sh`) whose exit signal tells which signal reached them.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { killGroups, waitForChildren } from '../../src/entrypoint/drain.js';
import type { Logger } from '../../src/entrypoint/log.js';
import { readProcStat } from '../../src/sys/process.js';
import { waitFor, withDeadline } from '../helpers/wait.js';

/** Above the kernel's PID_MAX_LIMIT (2^22): no process or group can have it. */
const NO_SUCH_PID = 4_194_305;

interface Spawned {
  readonly pid: number;
  readonly process: ChildProcess;
  /** The signal that ended it (null for an exit). */
  readonly ended: Promise<NodeJS.Signals | null>;
}

const children: Spawned[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
    await withDeadline(c.ended, 5000, `pid ${c.pid} to exit`);
  }
});

/** `argv` as the leader of its own process group (as a service is), tracked for cleanup. */
function start(argv: string[], own?: Set<number>): Spawned {
  const p = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
  if (p.pid === undefined) throw new Error(`cannot spawn ${argv[0]}`);
  const pid = p.pid;
  own?.add(pid);
  // As the launcher does: a service's pid leaves the set when its exit is collected.
  const ended = new Promise<NodeJS.Signals | null>((r) => p.once('exit', (_code, signal) => (own?.delete(pid), r(signal))));
  const c = { pid, process: p, ended };
  children.push(c);
  return c;
}

/** The first line `c` prints, within a deadline. */
function firstLine(c: Spawned): Promise<string> {
  return withDeadline(new Promise((r) => c.process.stdout!.once('data', (d: Buffer) => r(d.toString().split('\n')[0]!))), 5000, 'first line');
}

function recorder(): { logger: Logger; events: string[] } {
  const events: string[] = [];
  return { logger: { event: (level: string, message: string) => events.push(`${level}: ${message}`) } as unknown as Logger, events };
}

describe('killGroups', () => {
  it("SIGKILLs each service's whole process group and skips a group that is gone", async () => {
    const shell = start(['sh', '-c', 'sleep 30 & echo $!; wait']);
    const grandchild = Number(await firstLine(shell));
    expect(readProcStat(grandchild)?.pgrp).toBe(shell.pid);
    expect(() => killGroups(new Set([NO_SUCH_PID, shell.pid]))).not.toThrow();
    expect(await withDeadline(shell.ended, 5000, 'the shell to exit')).toBe('SIGKILL');
    await waitFor(() => [undefined, 'Z'].includes(readProcStat(grandchild)?.state), { timeoutMs: 5000, what: 'the grandchild to die' });
  });
});

describe('waitForChildren', () => {
  it('resolves true at once with no child and no service left', async () => {
    const { logger, events } = recorder();
    expect(await withDeadline(waitForChildren(new Set(), logger), 5000, 'waitForChildren')).toBe(true);
    expect(events).toEqual([]);
  });

  it('waits for the services to end without signalling them itself', async () => {
    const own = new Set<number>();
    const service = start(['sleep', '30'], own);
    const { logger, events } = recorder();
    const done = waitForChildren(own, logger, 20_000);
    killGroups(own);
    expect(await withDeadline(done, 10_000, 'waitForChildren')).toBe(true);
    expect(await service.ended).toBe('SIGKILL'); // a SIGTERM from waitForChildren (sent at its first look) would have come first
    expect(events).toEqual([]);
  });

  it('sends SIGTERM to a child in a group of its own that is no service', async () => {
    const orphan = start(['sleep', '30']);
    const { logger, events } = recorder();
    expect(await withDeadline(waitForChildren(new Set(), logger, 20_000), 10_000, 'waitForChildren')).toBe(true);
    expect(await orphan.ended).toBe('SIGTERM');
    expect(events).toEqual([`info: sending SIGTERM to orphaned process ${orphan.pid}`]);
  });

  it('sends that SIGTERM once, then SIGKILLs after graceMs and resolves false', async () => {
    const stubborn = start(['sh', '-c', 'trap "" TERM; echo ready; read x']);
    expect(await firstLine(stubborn)).toBe('ready');
    const { logger, events } = recorder();
    expect(await withDeadline(waitForChildren(new Set(), logger, 300), 10_000, 'waitForChildren')).toBe(false);
    expect(await stubborn.ended).toBe('SIGKILL');
    expect(events).toEqual([
      `info: sending SIGTERM to orphaned process ${stubborn.pid}`,
      `warn: processes ${stubborn.pid} outlived their services, killing them`,
    ]);
  });

  it('SIGKILLs what is left as soon as hurry() is true', async () => {
    const own = new Set<number>();
    const service = start(['sleep', '30'], own);
    const { logger, events } = recorder();
    expect(await withDeadline(waitForChildren(own, logger, 60_000, () => true), 10_000, 'waitForChildren')).toBe(false);
    expect(await service.ended).toBe('SIGKILL');
    expect(events).toEqual([`warn: processes ${service.pid} are still here, killing them`]);
  });

  it('gives up 2 s after SIGKILL when a service pid never leaves the set', async () => {
    const { logger, events } = recorder();
    const started = Date.now();
    expect(await withDeadline(waitForChildren(new Set([NO_SUCH_PID]), logger, 60_000, () => true), 10_000, 'waitForChildren')).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(events).toHaveLength(1);
    expect(events[0]).toBe(`warn: process ${NO_SUCH_PID} still here after SIGKILL, exiting anyway`);
  });
});
