// End to end: `launcher run` passes its command's status on as a shell (or tini) would:
// the exit code, 128+N for a signal, 127 / 126 for a missing / non-executable
// program; with and without sockets, and as PID 1 of a pid namespace.
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, cli, makeUnitDir } from '../helpers/launcher.js';
import { freePort } from '../helpers/ports.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { UNSHARE_PID1 } from '../helpers/wrapped.js';

const tmp = makeTmpDir('launcher-exit-');
afterAll(() => tmp.cleanup());
let runs = 0;

/** `launcher run [flags] -- command...` to completion, each run on its own control socket. */
function run(command: string[], flags: string[] = []): ReturnType<typeof cli> {
  const control = path.join(tmp.dir, `ctl-${++runs}`, 'c.sock');
  return cli(['run', '--control', control, ...flags, '--', ...command], { cwd: tmp.dir, timeoutMs: 20_000 });
}

describe('launcher run exit codes', () => {
  it.each([0, 1, 2, 127, 255])("sh -c 'exit %i' exits with that code", async (n) => {
    const r = await run(['sh', '-c', `exit ${n}`]);
    expect(r.exitCode).toBe(n);
  });

  it.each([
    ['HUP', 129],
    ['TERM', 143],
    ['KILL', 137],
    ['QUIT', 131],
  ] as const)('a command killed by SIG%s exits %i', async (signal, code) => {
    const r = await run(['sh', '-c', `kill -${signal} $$`]);
    expect(r.exitCode).toBe(code);
  });

  it('a missing program exits 127 and says so', async () => {
    const bare = await run(['no-such-program-for-launcher-tests']);
    expect(bare.exitCode).toBe(127);
    expect(bare.stderr).toMatch(/no-such-program-for-launcher-tests: command not found/);
    const absolute = await run([path.join(tmp.dir, 'missing', 'prog')]);
    expect(absolute.exitCode).toBe(127);
  });

  it('a file that is not executable exits 126', async () => {
    const script = path.join(tmp.dir, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const r = await run([script]);
    expect(r.exitCode).toBe(126);
    expect(r.stderr).toMatch(/permission denied/);
  });

  it('passes the status on with sockets too (-l 127.0.0.1:PORT)', async () => {
    const port = await freePort();
    const flags = ['-l', `127.0.0.1:${port}`];
    // The command sees its socket (LISTEN_FDS=1) and exits with a code of its own.
    expect((await run(['sh', '-c', '[ "$LISTEN_FDS" = 1 ] && exit 7; exit 99'], flags)).exitCode).toBe(7);
    expect((await run(['sh', '-c', 'kill -TERM $$'], flags)).exitCode).toBe(143);
    expect((await run(['no-such-program-for-launcher-tests'], flags)).exitCode).toBe(127);
  });
});

describe('launcher exit codes as PID 1 of a pid namespace', () => {
  /** `unshare ... launcher ARGS`: unshare exits with its child's status. */
  async function underUnshare(args: string[]): Promise<{ exitCode: number; stderr: string }> {
    const [file, ...rest] = [...UNSHARE_PID1, process.execPath, CLI, ...args];
    const r = await execa(file!, rest, { reject: false, cwd: tmp.dir, timeout: 20_000 });
    return { exitCode: r.exitCode ?? -1, stderr: String(r.stderr) };
  }

  it('launcher run passes on an exit code, a signal and a missing program', async () => {
    const control = (name: string): string[] => ['--control', path.join(tmp.dir, `ns-${name}`, 'c.sock')];
    expect((await underUnshare(['run', ...control('a'), '--', 'sh', '-c', '[ $PPID = 1 ] && exit 42; exit 99'])).exitCode).toBe(42);
    expect((await underUnshare(['run', ...control('b'), '--', 'sh', '-c', 'kill -HUP $$'])).exitCode).toBe(129);
    expect((await underUnshare(['run', ...control('c'), '--', 'no-such-program-for-launcher-tests'])).exitCode).toBe(127);
  });

  it("launcher up exits with the last service's status: 128+N when a signal ended it", async () => {
    const { dir, unitsDir, cleanup } = makeUnitDir({ once: '[service]\nexec = ["sh", "-c", "kill -KILL $$"]\nrestart = "no"\n' });
    try {
      const r = await underUnshare(['up', '--units', unitsDir, '--control', path.join(dir, 'ctl/c.sock')]);
      expect(r.exitCode).toBe(137);
    } finally {
      cleanup();
    }
  });
});
