import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GenerationWriter } from '../../src/entrypoint/generation.js';
import type { Launcher } from '../../src/entrypoint/launcher.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function sleeper(): ChildProcess {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  cleanups.push(() => child.kill('SIGKILL'));
  return child;
}

function startTimeOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]);
}

/** A launcher with one unit whose instances are `pids()` (no sockets). */
function fakeLauncher(pids: () => number[]): Launcher {
  const runtime = {
    supervisor: {
      unit: { name: 'web', service: { stopSignal: 'SIGTERM', stopTimeoutMs: 1000 } },
      status: () => ({ instances: pids().map((pid) => ({ pid })) }),
    },
    sockets: [],
  };
  return { runtimes: () => [runtime] } as unknown as Launcher;
}

function setup(pids: () => number[]): { writer: GenerationWriter; read: () => { units: { processes: { pid: number; startTime: number }[] }[] } | null } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'generation-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'control.sock.state');
  const writer = new GenerationWriter(file, fakeLauncher(pids), (m) => {
    throw new Error(m);
  });
  cleanups.push(() => writer.remove());
  const read = () => {
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return null;
    }
  };
  return { writer, read };
}

const pidsIn = (state: ReturnType<ReturnType<typeof setup>['read']>): number[] => state?.units[0]?.processes.map((p) => p.pid) ?? [];

describe('GenerationWriter', () => {
  it('writes a change after a quiet spell on the next turn of the event loop (a crash right after a start still names the pid)', async () => {
    const a = sleeper();
    const { writer, read } = setup(() => [a.pid!]);
    writer.schedule();
    await new Promise((resolve) => setImmediate(resolve));
    expect(read()?.units[0]?.processes).toEqual([{ pid: a.pid, startTime: startTimeOf(a.pid!) }]);
  });

  it('while changes keep coming, the file still ends up naming every live pid with its own start time', async () => {
    const children: ChildProcess[] = [];
    const { writer, read } = setup(() => children.map((c) => c.pid!));
    for (let i = 0; i < 5; i++) {
      children.push(sleeper());
      writer.schedule();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => pidsIn(read()).length === 5, { timeoutMs: 5000, what: 'all five pids written' });
    expect(read()!.units[0]!.processes).toEqual(children.map((c) => ({ pid: c.pid, startTime: startTimeOf(c.pid!) })));
    // One leaves: it is dropped, and the others keep their start times.
    children.shift()!.kill('SIGKILL');
    writer.schedule();
    await waitFor(() => pidsIn(read()).length === 4, { timeoutMs: 5000, what: 'the ended pid dropped' });
    expect(read()!.units[0]!.processes).toEqual(children.map((c) => ({ pid: c.pid, startTime: startTimeOf(c.pid!) })));
  });

  it('writes nothing after remove()', async () => {
    const a = sleeper();
    const { writer, read } = setup(() => [a.pid!]);
    writer.schedule();
    writer.remove();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(read()).toBeNull();
  });
});
