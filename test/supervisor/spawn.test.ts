// spawnService with real processes: the environment and LISTEN_PID through both exec
// shims, output as lines, exit statuses, process-group kill and spawn failures.
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bindUnitSockets } from '../../src/sockets/index.js';
import { readProcStat } from '../../src/sys/process.js';
import { CUT_MARKER, MAX_LINE_CHARS } from '../../src/supervisor/spawn-output.js';
import type { Unit } from '../../src/units/index.js';
import { Tracker, fixturePath, q, stdoutOf, unitFrom } from '../helpers/services.js';
import { freePort } from '../helpers/ports.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor, withDeadline } from '../helpers/wait.js';

let tmp: { dir: string; cleanup: () => void };
const tracker = new Tracker();
beforeEach(() => {
  tmp = makeTmpDir('launcher-spawn-');
});
afterEach(async () => {
  await tracker.cleanup();
  tmp.cleanup();
});

const sh = (script: string): string => `[service]\nexec = ["/bin/sh", "-c", ${q(script)}]\n`;

/** Running, not merely a zombie waiting for whoever adopted it. */
function isAlive(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

async function reportOf(unit: Unit, opts: { shim?: 'sh' | 'node'; sockets?: boolean; notifySocket?: string; baseEnv?: NodeJS.ProcessEnv } = {}) {
  const { sockets: withSockets, ...rest } = opts;
  const sockets = withSockets === false ? [] : tracker.socket(bindUnitSockets(unit));
  const { child, lines } = tracker.spawn({ unit, instance: 3, sockets, ...rest });
  expect(await withDeadline(child.exited, 10_000, 'report-env to exit')).toEqual({ code: 0, signal: null });
  const [json] = stdoutOf(lines);
  if (json === undefined) throw new Error(`no report; output: ${JSON.stringify(child.lastLines())}`);
  return { child, report: JSON.parse(json ?? '{}') as { pid: number; argv0: string; cwd: string; env: Record<string, string> } };
}

describe('environment', () => {
  for (const shim of ['sh', 'node'] as const) {
    it(`sets LISTEN_* with the service's own pid and drops stale variables (${shim} shim)`, async () => {
      const port = await freePort();
      const unit = await unitFrom(
        tmp.dir,
        'web',
        `[service]\nexec = ["node", ${q(fixturePath('report-env.mjs'))}]\nenv = { FIXTURE_X = "x", LISTEN_FDS = "99" }\nwatchdog = "2s"\n` +
          `[[socket]]\nlisten = "127.0.0.1:${port}"\nname = "http"\n[[socket]]\nlisten = "unix:api.sock"\nname = "api"\n`,
      );
      const baseEnv = { PATH: process.env.PATH, LISTEN_PID: '1', LISTEN_FDNAMES: 'old', NOTIFY_SOCKET: '/old', WATCHDOG_USEC: '5', WATCHDOG_PID: '1', KEEP: 'me' };
      const { child, report } = await reportOf(unit, { shim, notifySocket: '/run/notify.sock', baseEnv });
      expect(report.pid).toBe(child.pid);
      expect(report.env).toEqual({
        LISTEN_PID: String(child.pid),
        LISTEN_FDS: '2',
        LISTEN_FDNAMES: 'http:api',
        LAUNCHER_UNIT: 'web',
        LAUNCHER_INSTANCE: '3',
        NOTIFY_SOCKET: '/run/notify.sock',
        WATCHDOG_USEC: '2000000',
        WATCHDOG_PID: String(child.pid),
        FIXTURE_X: 'x',
      });
      expect(report.cwd).toBe(tmp.dir);
      // The Node shim can keep argv[0] as written; dash has no `exec -a`.
      expect(report.argv0).toBe(shim === 'node' ? 'node' : process.execPath);
    });
  }

  it('sets no LISTEN_* without sockets and runs the program directly', async () => {
    const unit = await unitFrom(tmp.dir, 'plain', `[service]\nexec = ["node", ${q(fixturePath('report-env.mjs'))}]\n`);
    const { child, report } = await reportOf(unit, { sockets: false, baseEnv: { PATH: process.env.PATH, LISTEN_FDS: '1', LISTEN_PID: '1' } });
    expect(report.pid).toBe(child.pid);
    expect(report.env).toEqual({ LAUNCHER_UNIT: 'plain', LAUNCHER_INSTANCE: '3' });
    expect(report.argv0).toBe('node');
  });

  it("a grandchild sees LISTEN_PID that is not its own pid", async () => {
    const port = await freePort();
    const unit = await unitFrom(
      tmp.dir,
      'g',
      sh('echo "self $$ $LISTEN_PID"; /bin/sh -c \'echo "grandchild $$ $LISTEN_PID"\'; exit 0') + `[[socket]]\nlisten = "127.0.0.1:${port}"\n`,
    );
    const { child, lines } = tracker.spawn({ unit, instance: 0, sockets: tracker.socket(bindUnitSockets(unit)) });
    await withDeadline(child.exited, 10_000, 'exit');
    const [self, grandchild] = stdoutOf(lines).map((l) => l.split(' '));
    expect(self).toEqual(['self', String(child.pid), String(child.pid)]);
    expect(grandchild?.[0]).toBe('grandchild');
    expect(grandchild?.[2]).toBe(String(child.pid));
    expect(grandchild?.[1]).not.toBe(String(child.pid));
  });
});

describe('process', () => {
  it('calls onSpawn synchronously with the pid', async () => {
    const unit = await unitFrom(tmp.dir, 'quick', sh('exit 3'));
    const seen: number[] = [];
    const { child } = tracker.spawn({ unit, instance: 0, sockets: [], onSpawn: (pid) => seen.push(pid) });
    expect(seen).toEqual([child.pid]);
    expect(child.pid).toBeGreaterThan(0);
    expect(await withDeadline(child.exited, 5000, 'exit')).toEqual({ code: 3, signal: null });
  });

  it('splits output into lines per stream and flushes a partial last line at exit', async () => {
    const unit = await unitFrom(tmp.dir, 'out', sh('printf "a\\nb\\r\\n"; printf "oops\\n" >&2; printf "partial"'));
    const { child, lines } = tracker.spawn({ unit, instance: 1, sockets: [] });
    await withDeadline(child.exited, 5000, 'exit');
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['a', 'b', 'partial']);
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.text)).toEqual(['oops']);
    expect(lines[0]).toMatchObject({ unit: 'out', instance: 1, pid: child.pid });
    expect([...child.lastLines()].sort()).toEqual(['a', 'b', 'oops', 'partial']);
  });

  it('gives the service real pipes: /dev/stdout and /dev/stderr open by path', async () => {
    const unit = await unitFrom(tmp.dir, 'bypath', sh('echo to-out > /dev/stdout; echo to-err > /dev/stderr; readlink /proc/self/fd/1'));
    const { child, lines } = tracker.spawn({ unit, instance: 0, sockets: [] });
    // The read ends an upgrade would carry: open while the pipe is, -1 once read to its end.
    expect(child.outputFds?.stdout).toBeGreaterThan(2);
    expect(await withDeadline(child.exited, 5000, 'exit')).toEqual({ code: 0, signal: null });
    expect(stdoutOf(lines)).toEqual(['to-out', expect.stringMatching(/^pipe:\[\d+\]$/)]);
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.text)).toEqual(['to-err']);
    await waitFor(() => child.outputFds?.stdout === -1 && child.outputFds.stderr === -1, { what: 'both read ends at their end' });
  });

  it('caps very long lines and keeps only the last 50 lines', async () => {
    const unit = await unitFrom(tmp.dir, 'long', `[service]\nexec = ["node", "-e", "process.stdout.write('x'.repeat(150000) + '\\\\n'); for (let i = 0; i < 60; i++) console.log(i)"]\n`);
    const { child, lines } = tracker.spawn({ unit, instance: 0, sockets: [] });
    await withDeadline(child.exited, 5000, 'exit');
    const texts = stdoutOf(lines);
    expect(texts[0]).toBe('x'.repeat(MAX_LINE_CHARS) + CUT_MARKER);
    expect(texts[1]).toBe('0');
    expect(child.lastLines()).toHaveLength(50);
    expect(child.lastLines().at(-1)).toBe('59');
  });

  it('kill signals the whole process group and exited reports the signal', async () => {
    const unit = await unitFrom(tmp.dir, 'group', sh('sleep 30 & echo $!; wait'));
    const { child, lines } = tracker.spawn({ unit, instance: 0, sockets: [] });
    const grandchild = Number(await waitFor(() => stdoutOf(lines)[0], { what: 'grandchild pid' }));
    expect(isAlive(grandchild)).toBe(true);
    child.kill('SIGTERM');
    expect(await withDeadline(child.exited, 5000, 'exit')).toEqual({ code: null, signal: 'SIGTERM' });
    await waitFor(() => !isAlive(grandchild), { what: 'grandchild to die' });
    child.kill('SIGTERM'); // a no-op after exit
  });

  it('a program missing at start time exits 127 with the reason (shim and direct)', async () => {
    const program = path.join(tmp.dir, 'gone.sh');
    writeFileSync(program, '#!/bin/sh\nexit 0\n');
    chmodSync(program, 0o755);
    const port = await freePort();
    const withSockets = await unitFrom(tmp.dir, 'a', `[service]\nexec = [${q(program)}]\n[[socket]]\nlisten = "127.0.0.1:${port}"\n`);
    const direct = await unitFrom(tmp.dir, 'b', `[service]\nexec = [${q(program)}]\n`);
    rmSync(program);

    const sockets = tracker.socket(bindUnitSockets(withSockets));
    const viaShim = tracker.spawn({ unit: withSockets, instance: 0, sockets }).child;
    expect(await withDeadline(viaShim.exited, 5000, 'exit')).toEqual({ code: 127, signal: null });
    expect(viaShim.lastLines().join('\n')).toContain(program);

    const viaNodeShim = tracker.spawn({ unit: withSockets, instance: 0, sockets, shim: 'node' }).child;
    expect(await withDeadline(viaNodeShim.exited, 5000, 'exit')).toEqual({ code: 127, signal: null });
    expect(viaNodeShim.lastLines().join('\n')).toMatch(/ENOENT/);

    let spawned = false;
    const notStarted = tracker.spawn({ unit: direct, instance: 0, sockets: [], onSpawn: () => (spawned = true) }).child;
    expect(await withDeadline(notStarted.exited, 5000, 'exit')).toEqual({ code: 127, signal: null });
    expect(notStarted.pid).toBe(0);
    expect(spawned).toBe(false);
    expect(notStarted.lastLines().join('\n')).toMatch(/ENOENT/);
  });
});
