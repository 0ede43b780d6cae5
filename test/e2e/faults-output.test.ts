// The launcher's own stdout failing under it (issue 11 item 1): a reader that exits
// (`launcher up | head -1`: EPIPE), a reader that never reads (a full pipe), and a
// terminal that goes away (SIGHUP, then EIO). In each the launcher keeps serving,
// answers `status` and `logs`, stays idle, and stops promptly on SIGTERM.
import { execa, type ResultPromise } from 'execa';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { close } from '../../src/sys/libc.js';
import { pipeCloexec } from '../../src/sys/pipe.js';
import { cpuPercentOver, rssKiB } from '../helpers/proc.js';
import { waitFor, withDeadline } from '../helpers/wait.js';
import { CLI, makeUnitDir } from '../helpers/launcher.js';
import { collectLines } from '../helpers/output-lines.js';
import { requirePeers } from '../helpers/peers.js';
import { ok } from '../helpers/sys.js';

/** A quiet launcher: well under 1 % of a core; the old code spun at 100 %. */
const IDLE_PERCENT = 1;
const MEASURE_MS = 4000;

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** `launcher up` with its stdout on the write end of a real pipe (as a shell's `|` gives it); the test holds the read end. */
function upOnPipe(unitsDir: string, extraArgs: string[] = []) {
  const control = path.join(path.dirname(unitsDir), 'control.sock');
  const [readEnd, writeEnd] = ok(pipeCloexec());
  const child: ResultPromise = execa(process.execPath, [CLI, 'up', '--units', unitsDir, '--control', control, ...extraArgs], {
    stdio: ['ignore', writeEnd as 3, 'pipe'],
    reject: false,
    buffer: false,
  });
  close(writeEnd);
  const reader = new net.Socket({ fd: readEnd, readable: true, writable: false });
  const out = collectLines([reader], 'launcher stdout');
  const err = collectLines([child.stderr], 'launcher stderr');
  const exited = child.then((r) => r.exitCode ?? -1);
  const pid = child.pid ?? -1;
  cleanups.push(async () => {
    reader.destroy();
    if ((await Promise.race([exited.then(() => true), Promise.resolve(false)])) === false) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const verb = (args: string[]) => execa(process.execPath, [CLI, ...args, '--control', control], { reject: false, timeout: 20_000 });
  return { pid, reader, out, err, exited, verb };
}

type Verb = (args: string[]) => Promise<{ exitCode?: number | undefined; stdout: unknown; stderr: unknown }>;

/**
 * Waits (polling `logs --json`) until a line of `unit` taken after `since` is in the
 * launcher's memory: the launcher has since tried to write it to its stdout. A
 * launcher that spins or blocks on its stdout never answers, and this times out.
 */
async function waitForLineAfter(verb: Verb, unit: string, since: number, what: string): Promise<void> {
  await withDeadline(
    (async () => {
      for (;;) {
        const r = await verb(['logs', unit, '-n', '5', '--json']);
        const times = String(r.stdout).split('\n').filter(Boolean).map((l) => Date.parse((JSON.parse(l) as { time: string }).time));
        if (times.some((t) => t > since)) return;
        await new Promise((res) => setTimeout(res, 200));
      }
    })(),
    20_000,
    what,
  );
}

/** A service that prints a few lines at once and then one a second. */
const CHATTY = `[service]\nexec = ["/bin/sh", "-c", "echo hello; echo there; i=0; while :; do i=$((i+1)); echo tick $i; sleep 1; done"]\n`;

async function expectServingAndIdle(up: ReturnType<typeof upOnPipe>): Promise<void> {
  // Every unit running (a ready = "started" child counts as ready after ready_after, 1 s).
  await waitFor(
    async () => {
      const status = await up.verb(['status', '--json']);
      expect(status.exitCode, String(status.stderr)).toBe(0);
      return (JSON.parse(String(status.stdout)) as { units: { state: string }[] }).units.every((u) => u.state === 'running');
    },
    { timeoutMs: 15_000, intervalMs: 200, what: 'every unit running' },
  );
  const logs = await up.verb(['logs', 'chatty', '-n', '1000']);
  expect(logs.exitCode, String(logs.stderr)).toBe(0);
  expect(String(logs.stdout)).toMatch(/chatty\[\d+\] hello/);
  expect(await cpuPercentOver(up.pid, MEASURE_MS)).toBeLessThan(IDLE_PERCENT);
}

describe('a broken or stuck stdout does not wedge the launcher', () => {
  it('a reader that exits (`up | head -1`): EPIPE is noticed once; status answers, idle, SIGTERM ends it', async () => {
    const dir = makeUnitDir({ chatty: CHATTY });
    cleanups.push(dir.cleanup);
    const up = upOnPipe(dir.unitsDir);
    await up.out.waitForLine(/chatty\[\d+\] hello/, 20_000);
    up.reader.destroy(); // `head -1` has what it wanted and exits
    // The next tick line makes the launcher write into a pipe without a reader.
    await waitForLineAfter(up.verb, 'chatty', Date.now() + 100, 'a line printed after the reader left');
    expect(String((await up.verb(['logs', '-n', '1000'])).stdout)).toMatch(/stdout is gone \(EPIPE\)/);
    await expectServingAndIdle(up);
    process.kill(up.pid, 'SIGTERM');
    expect(await withDeadline(up.exited, 20_000, 'launcher exit after SIGTERM')).toBe(0);
  });

  it('a reader that never reads (full pipe): no blocking, bounded memory, a skip count once it reads again', async () => {
    // 200k lines of ~100 bytes: far more than a pipe (64 KiB) plus what the launcher holds back (256 KiB).
    const burst = `[service]\nexec = ["/bin/sh", "-c", "seq 1 200000 | sed 's/$/ ${'x'.repeat(90)}/'; echo burst-done; exec sleep 1000"]\n`;
    const dir = makeUnitDir({ chatty: CHATTY, burst });
    cleanups.push(dir.cleanup);
    const up = upOnPipe(dir.unitsDir);
    await up.out.waitForLine(/units? loaded/, 20_000);
    up.reader.pause(); // never reads again (until the end of the test)
    const rssBefore = rssKiB(up.pid);
    await withDeadline(
      (async () => {
        for (;;) {
          // Not only the last line: the launcher's own event (ready after ready_after) may follow burst-done.
          const r = await up.verb(['logs', 'burst', '-n', '20']);
          if (/burst-done/.test(String(r.stdout))) return;
          await new Promise((res) => setTimeout(res, 200));
        }
      })(),
      60_000,
      'the whole burst to reach the launcher while its stdout is full',
    );
    await expectServingAndIdle(up);
    // Twenty megabytes went through; what stays is the ring (1000 lines) and a bounded backlog.
    expect(rssKiB(up.pid) - rssBefore).toBeLessThan(64 * 1024);
    up.reader.resume();
    await up.out.waitForLine(/lines skipped \(stdout could not keep up\)/, 20_000);
    process.kill(up.pid, 'SIGTERM');
    expect(await withDeadline(up.exited, 20_000, 'launcher exit after SIGTERM')).toBe(0);
  }, 90_000);

  it('a terminal that goes away (SIGHUP, then EIO on every write): status answers, idle, SIGTERM ends it', async (context) => {
    requirePeers(context, 'python3');
    const dir = makeUnitDir({ chatty: CHATTY });
    cleanups.push(dir.cleanup);
    const control = path.join(dir.dir, 'control.sock');
    // python's pty.fork(): the launcher is a session leader on a pseudo-terminal; closing the
    // master side is the terminal going away (the kernel sends SIGHUP; writes then fail with EIO).
    const script = [
      'import os, pty, sys',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      '    os.execv(sys.argv[1], sys.argv[1:])',
      'buf = b""',
      'while b"loaded" not in buf:',
      '    buf += os.read(fd, 4096)',
      'print("pid", pid, flush=True)',
      'os.close(fd)',
      'print("closed", flush=True)',
      '_, status = os.waitpid(pid, 0)',
      'print("exit", os.waitstatus_to_exitcode(status), flush=True)',
    ].join('\n');
    const py = execa('/usr/bin/python3', ['-c', script, process.execPath, CLI, 'up', '--units', dir.unitsDir, '--control', control], { reject: false, buffer: false });
    const pyOut = collectLines([py.stdout, py.stderr], 'pty driver');
    cleanups.push(async () => {
      py.kill('SIGKILL');
      await py;
    });
    const pid = Number(/pid (\d+)/.exec(await pyOut.waitForLine(/^pid \d+/, 20_000))?.[1]);
    cleanups.push(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    });
    const verb = (args: string[]) => execa(process.execPath, [CLI, ...args, '--control', control], { reject: false, timeout: 20_000 });
    await pyOut.waitForLine(/^closed$/, 20_000);
    // The kernel sent SIGHUP (a reload); the next tick line meets EIO on the terminal.
    await waitForLineAfter(verb, 'chatty', Date.now() + 100, 'a line printed after the terminal went away');
    const memory = String((await verb(['logs', '-n', '1000'])).stdout);
    expect(memory).toMatch(/SIGHUP received/);
    expect(memory).toMatch(/stdout is gone \(EIO\)/);
    const status = await verb(['status', '--json']);
    expect(status.exitCode, String(status.stderr)).toBe(0);
    expect(await cpuPercentOver(pid, MEASURE_MS)).toBeLessThan(IDLE_PERCENT);
    process.kill(pid, 'SIGTERM');
    expect(await pyOut.waitForLine(/^exit /, 20_000)).toBe('exit 0');
  });
});
