// Fault injection: misuse and faults that once stopped or wedged the launcher (issue
// "hardening"), each driven through the real CLI: operator-stopped units, `down` that must
// wait, bogus inherited fds, broken units on SIGHUP, a version that dies at start-up, a
// service that ignores SIGTERM, a control peer that never answers, a unit folder that vanishes.
import { execa } from 'execa';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, cleanupLaunchers, cli, makeUnitDir, startLauncher, statusJson, unitStatus, waitForState } from '../helpers/launcher.js';
import { collectLines } from '../helpers/output-lines.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor, withDeadline } from '../helpers/wait.js';

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  for (const c of cleanups.splice(0)) c();
});

/** A unit dir registered for cleanup. */
function units(files: Record<string, string>, extra: Record<string, string> = {}): ReturnType<typeof makeUnitDir> {
  const u = makeUnitDir(files, extra);
  cleanups.push(u.cleanup);
  return u;
}

/** A `ready = "started"` unit running `script` with sh, in its unit folder. */
function shUnit(script: string, extra = ''): string {
  return `[service]\nexec = ["sh", "-c", ${JSON.stringify(script)}]\n${extra}\n`;
}

describe('operator-stopped units keep the launcher up', () => {
  it('stop every unit, start one that fails on its own: up stays and serves status', async () => {
    const u = units(
      {
        keep: shUnit('exec sleep 1000', 'ready_after = "0"'),
        flaky: shUnit('test -f go && exec sleep 1000; echo no go file; exit 3', 'restart = "no"\nready_after = "300ms"'),
      },
      { go: '' },
    );
    const launcher = await startLauncher(u.unitsDir);
    await waitForState(launcher, 'flaky', 'running');
    for (const name of ['keep', 'flaky']) expect((await launcher.cli(['stop', name])).exitCode).toBe(0);
    rmSync(path.join(u.unitsDir, 'go'));
    const start = await launcher.cli(['start', 'flaky']);
    expect(start.exitCode, start.stdout + start.stderr).toBe(1);
    expect(start.stderr).toMatch(/exited within ready_after .*exit status 3/);
    // `keep` was stopped by an operator and may come back: the launcher stays.
    const status = await statusJson(launcher);
    expect(status.units.map((x) => [x.name, x.state])).toEqual([['flaky', 'failed'], ['keep', 'inactive']]);
    expect((await launcher.cli(['start', 'keep'])).exitCode).toBe(0);
    expect((await unitStatus(launcher, 'keep')).state).toBe('running');
  }, 40_000);
});

describe('down waits until the launcher is gone', () => {
  // A service that takes a second to stop after SIGTERM.
  const slow = (port: string): string =>
    `[service]\nexec = ["sh", "-c", "trap 'sleep 1; exit 0' TERM; while :; do sleep 0.1; done"]\nready_after = "0"\n[[socket]]\nlisten = ${JSON.stringify(port)}\n`;

  it('returns after every service stopped, so an `up` right after it binds the same sockets', async () => {
    const u = units({ slow: slow('unix:slow.sock') });
    const launcher = await startLauncher(u.unitsDir);
    await waitForState(launcher, 'slow', 'running');
    const down = await launcher.cli(['down']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/^stopping: waiting for slow\[\d+\], then the launcher \(pid \d+\), up to \d+ s$/m);
    expect(down.stdout).toMatch(/^launcher stopped$/m);
    // Gone already, not merely stopping.
    expect(await withDeadline(launcher.exited, 1000, 'the launcher to have exited')).toBe(0);
    const again = await startLauncher(u.unitsDir);
    await waitForState(again, 'slow', 'running');
  }, 40_000);

  it('--no-wait returns once the launcher has begun stopping', async () => {
    const u = units({ slow: slow('unix:slow.sock') });
    const launcher = await startLauncher(u.unitsDir);
    await waitForState(launcher, 'slow', 'running');
    const down = await launcher.cli(['down', '--no-wait']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(down.stdout).toBe('launcher is stopping');
    expect(await withDeadline(launcher.exited, 20_000, 'launcher exit')).toBe(0);
  }, 40_000);

  it('exits 1 when the launcher is still there after its deadline', async () => {
    // A stand-in launcher that says it is stopping but never exits: a live `sleep` as its pid.
    const tmp = makeTmpDir();
    cleanups.push(tmp.cleanup);
    const sleeper = execa('sleep', ['60'], { reject: false });
    cleanups.push(() => sleeper.kill('SIGKILL'));
    const control = path.join(tmp.dir, 'control.sock');
    const server = net.createServer((socket) => {
      socket.once('data', (line) => {
        const { id } = JSON.parse(String(line)) as { id: number };
        socket.end(JSON.stringify({ v: 1, id, result: { stopping: true, pid: sleeper.pid, waitingFor: [], deadlineMs: 300 } }) + '\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(control, resolve));
    cleanups.push(() => server.close());
    const down = await cli(['down', '--control', control]);
    expect(down.exitCode, down.stdout + down.stderr).toBe(1);
    expect(down.stderr).toMatch(new RegExp(`the launcher \\(pid ${sleeper.pid}\\) is still running 1 s after \`down\``));
  }, 20_000);
});

describe('a bogus inherited LISTEN_FDS', () => {
  const webFd = shUnit('exec sleep 1000') + '[[socket]]\nlisten = "fd:web"\n';

  /** `launcher up` with LISTEN_PID = its own pid and fd 3 as `redirect` sets it up in sh. */
  function upWithFd3(unitsDir: string, redirect: string): Promise<{ exitCode?: number; stdout: string; stderr: string }> {
    const control = path.join(path.dirname(unitsDir), 'ctl.sock');
    const script = `${redirect}; LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=web exec "$0" "$@"`;
    return execa('sh', ['-c', script, process.execPath, CLI, 'up', '--units', unitsDir, '--control', control], { reject: false, timeout: 20_000 });
  }

  it('a regular file at fd 3: exit 2 naming LISTEN_FDS, the fd and what it is', async () => {
    const u = units({ web: webFd }, { 'plain.txt': 'not a socket\n' });
    const r = await upWithFd3(u.unitsDir, `exec 3<${JSON.stringify(path.join(u.unitsDir, 'plain.txt'))}`);
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/web: socket "web" fd:web: LISTEN_FDS passed fd 3 as "web", but fd 3 is the file .*plain\.txt: not a socket/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  }, 30_000);

  it('nothing open at fd 3 (the runtime takes the number): exit 2, no abort', async () => {
    const u = units({ web: webFd });
    const r = await upWithFd3(u.unitsDir, 'exec 3<&-');
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/LISTEN_FDS passed fd 3 as "web", but fd 3 (is not open|is anon_inode:.*not passed by the caller)/);
  }, 30_000);

  it('/dev/null at fd 3 that no unit asks for: a warning, the launcher runs and leaves it open', async () => {
    const u = units({ other: shUnit('exec sleep 1000') });
    const control = path.join(u.dir, 'ctl.sock');
    const script = `LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=web exec "$0" "$@" 3</dev/null`;
    const child = execa('sh', ['-c', script, process.execPath, CLI, 'up', '--units', u.unitsDir, '--control', control], {
      reject: false, buffer: false,
    });
    cleanups.push(() => child.kill('SIGKILL'));
    const out = collectLines([child.stdout, child.stderr]);
    await out.waitForLine(/LISTEN_FDS names fd 3 \("web"\) but it is the file \/dev\/null, not a socket; leaving it alone/, 30_000);
    await out.waitForLine(/1 unit loaded/, 30_000);
    const r = await cli(['status', '--control', control]);
    expect(r.exitCode, r.stderr).toBe(0);
    // Still open in the launcher: never closed an fd it was not given as a socket.
    expect(existsSync(`/proc/${child.pid}/fd/3`)).toBe(true);
    child.kill('SIGTERM');
    expect((await child).exitCode).toBe(0);
  }, 60_000);
});

describe('SIGHUP with a broken unit file', () => {
  it('logs the same located errors as `check`, and nothing changes', async () => {
    const u = units({ ok: shUnit('exec sleep 1000', 'ready_after = "0"') });
    const launcher = await startLauncher(u.unitsDir);
    await waitForState(launcher, 'ok', 'running');
    const pid = (await unitStatus(launcher, 'ok')).pids[0];
    writeFileSync(path.join(u.unitsDir, 'bad.toml'), '[service]\nexec = ["nod-no-such-program"]\n');
    const check = await cli(['check', '--units', u.unitsDir]);
    expect(check.exitCode).toBe(2);
    const located = check.stderr.split('\n').find((l) => /bad\.toml:2/.test(l))!;
    expect(located).toMatch(/\[service\]\.exec: "nod-no-such-program" not found in PATH/);
    process.kill(launcher.pid, 'SIGHUP');
    await launcher.waitForLine(/reload refused, nothing changed/);
    const line = await launcher.waitForLine(/bad\.toml:2.*\[service\]\.exec: "nod-no-such-program" not found in PATH/);
    expect(line).toContain(located.replace(/^.*?bad\.toml/, 'bad.toml'));
    expect((await unitStatus(launcher, 'ok')).pids).toEqual([pid]);
  }, 30_000);

  it('a unit folder that vanished: reload refused, services untouched', async () => {
    const u = units({ ok: shUnit('exec sleep 1000', 'ready_after = "0"') });
    const launcher = await startLauncher(u.unitsDir);
    await waitForState(launcher, 'ok', 'running');
    const pid = (await unitStatus(launcher, 'ok')).pids[0];
    rmSync(u.unitsDir, { recursive: true });
    const r = await launcher.cli(['reload']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/units/);
    expect((await unitStatus(launcher, 'ok')).pids).toEqual([pid]);
  }, 30_000);
});

describe('ready_after (ready = "started")', () => {
  it('a new version that dies at start-up rolls back: restart exits 1, the old child keeps running', async () => {
    const u = units({ web: shUnit('if [ -f broken ]; then sleep 0.2; echo dying; exit 1; fi; exec sleep 1000', 'ready_after = "1s"') });
    const launcher = await startLauncher(u.unitsDir);
    const before = await waitForState(launcher, 'web', 'running');
    writeFileSync(path.join(u.unitsDir, 'broken'), '');
    const r = await launcher.cli(['restart', 'web']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/exited within ready_after \(1000 ms\) of its start \(exit status 1\)/);
    expect(r.stderr).toMatch(/dying/);
    const after = await unitStatus(launcher, 'web');
    expect(after.state).toBe('running');
    expect(after.pids).toEqual(before.pids);
  }, 30_000);
});

describe('status explains', () => {
  it('says why a unit failed or backs off, in the table and the JSON, with integer ms', async () => {
    const u = units({
      dead: shUnit('exit 3', 'restart = "no"'),
      loop: shUnit('exit 4', 'restart = "always"\nrestart_delay = "30s"\nrestart_delay_max = "30s"'),
    });
    const launcher = await startLauncher(u.unitsDir);
    await waitForState(launcher, 'dead', 'failed');
    await waitForState(launcher, 'loop', 'backoff');
    const reply = await statusJson(launcher);
    const [dead, loop] = reply.units;
    expect(dead!.reason).toMatch(/exit status 3/);
    expect(loop!.reason).toMatch(/exit status 4\)?; restarting in \d+ ms/);
    const ints = [reply.launcher.uptimeMs, ...reply.units.flatMap((x) => [x.uptimeMs, ...x.instances.flatMap((i) => [i.forMs, i.uptimeMs])])];
    for (const ms of ints) if (ms !== null) expect(Number.isInteger(ms), String(ms)).toBe(true);
    const table = await launcher.cli(['status']);
    expect(table.stdout).toMatch(/^dead\s+failed\s.*exit status 3/m);
    expect(table.stdout).toMatch(/^loop\s+backoff\s.*restarting in/m);
  }, 30_000);

  it('uptime is the current child\'s: a crashed and replaced child starts it over', async () => {
    const u = units({ web: shUnit('exec sleep 1000', 'ready_after = "0"\nrestart = "always"\nrestart_delay = "100ms"') });
    const launcher = await startLauncher(u.unitsDir);
    const first = await waitForState(launcher, 'web', 'running');
    await waitFor(async () => ((await unitStatus(launcher, 'web')).uptimeMs ?? 0) >= 1500, { timeoutMs: 10_000, what: 'uptime to pass 1.5 s' });
    process.kill(first.pids[0]!, 'SIGKILL');
    const killedAt = Date.now();
    const second = await waitFor(async () => {
      const s = await unitStatus(launcher, 'web');
      return s.state === 'running' && s.pids[0] !== first.pids[0] ? s : undefined;
    }, { what: 'a new child' });
    expect(second.uptimeMs).not.toBeNull();
    // The new child became ready after the kill, so its uptime is at most the time since then
    // (the old child's would be its 1.5 s and more).
    expect(second.uptimeMs!).toBeLessThanOrEqual(Date.now() - killedAt);
  }, 30_000);

  it('a 4 KB STATUS= is cut to the terminal width in the table and whole in --json', async () => {
    const notify = [
      'import os, socket',
      'a = os.environ["NOTIFY_SOCKET"]',
      'a = "\\0" + a[1:] if a.startswith("@") else a',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      's.sendto(b"READY=1\\nSTATUS=" + b"x" * 4000, a)',
      'os.execvp("sleep", ["sleep", "1000"])',
    ].join('\n');
    const u = units({ chatty: `[service]\nexec = ["python3", "-c", ${JSON.stringify(notify)}]\nready = "notify"\n` });
    const launcher = await startLauncher(u.unitsDir);
    await waitForState(launcher, 'chatty', 'running');
    expect((await unitStatus(launcher, 'chatty')).statusText).toBe('x'.repeat(4000));
    const table = await cli(['status', '--control', launcher.control], { env: { COLUMNS: '100' } });
    const row = table.stdout.split('\n').find((l) => l.startsWith('chatty'))!;
    expect(row.length).toBeLessThanOrEqual(100);
    expect(row).toMatch(/x…$/);
  }, 30_000);
});

describe('user = ... gets the account as systemd\'s User= does', () => {
  const root = process.getuid?.() === 0;

  it.skipIf(!root)('HOME, USER, LOGNAME, SHELL and the supplementary groups of its passwd/group entries', async () => {
    // A private mount namespace with its own /etc/passwd and /etc/group: an account with two groups.
    const tmp = makeTmpDir();
    cleanups.push(tmp.cleanup);
    const passwd = path.join(tmp.dir, 'passwd');
    const group = path.join(tmp.dir, 'group');
    writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/sh\nltest:x:4242:4243:test:/home/ltest:/bin/dash\n');
    writeFileSync(group, 'root:x:0:\nlprimary:x:4243:\nlextra:x:4244:other,ltest\nlnot:x:4245:other\n');
    const u = units({ who: shUnit('echo "ids $(id -u) $(id -g) $(id -G)"; echo "env $HOME $USER $LOGNAME $SHELL"; exec sleep 1000', 'user = "ltest"') });
    const control = path.join(u.dir, 'ctl.sock');
    const script = `mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group && shift 2 && exec "$@"`;
    const child = execa('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', passwd, group,
      process.execPath, CLI, 'up', '--units', u.unitsDir, '--control', control], { reject: false, buffer: false });
    cleanups.push(() => child.kill('SIGKILL'));
    const out = collectLines([child.stdout, child.stderr]);
    expect(await out.waitForLine(/who\[\d+\] ids /, 20_000)).toMatch(/ids 4242 4243 (4243 4244|4244 4243)$/);
    expect(await out.waitForLine(/who\[\d+\] env /)).toMatch(/env \/home\/ltest ltest ltest \/bin\/dash$/);
    child.kill('SIGTERM');
    expect((await child).exitCode).toBe(0);
  }, 30_000);
});

describe('stopping on SIGTERM', () => {
  it('exits 1 when a service ignored SIGTERM and had to be SIGKILLed', async () => {
    const u = units({ stubborn: shUnit("trap '' TERM; while :; do sleep 0.1; done", 'ready_after = "0"\nstop_timeout = "500ms"') });
    const launcher = await startLauncher(u.unitsDir);
    await waitForState(launcher, 'stubborn', 'running');
    expect(await launcher.stop('SIGTERM')).toBe(1);
    expect(launcher.lines.some((l) => /sending SIGKILL/.test(l))).toBe(true);
  }, 30_000);
});

describe('client verbs and a launcher that does not answer', () => {
  it('give up after LAUNCHER_TIMEOUT of silence with exit 3', async () => {
    const tmp = makeTmpDir();
    cleanups.push(tmp.cleanup);
    const control = path.join(tmp.dir, 'control.sock');
    const held: net.Socket[] = [];
    const server = net.createServer((socket) => held.push(socket)); // accepts, reads nothing, says nothing
    await new Promise<void>((resolve) => server.listen(control, resolve));
    cleanups.push(() => {
      held.forEach((s) => s.destroy());
      server.close();
    });
    for (const verb of [['status'], ['restart', 'web']]) {
      const r = await cli([...verb, '--control', control], { env: { LAUNCHER_TIMEOUT: '1s' }, timeoutMs: 15_000 });
      expect(r.exitCode, r.stdout + r.stderr).toBe(3);
      expect(r.stderr).toMatch(/accepted the connection but said nothing for 1000 ms/);
    }
  }, 30_000);

  it('a restart longer than the silence limit still completes: the launcher sends heartbeats', async () => {
    const u = units({ web: shUnit('exec sleep 1000', 'ready_after = "6s"') });
    const launcher = await startLauncher(u.unitsDir);
    await waitForState(launcher, 'web', 'running', 20_000);
    const r = await cli(['restart', 'web', '--control', launcher.control], { env: { LAUNCHER_TIMEOUT: '3s' } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^web: \d+ → \d+, ready in \d+ ms/m);
  }, 30_000);
});

describe('check', () => {
  it('reports a unix socket whose folder does not exist, located', async () => {
    const u = units({ web: shUnit('exec sleep 1000') + '[[socket]]\nlisten = "unix:no-such-folder/web.sock"\n' });
    const r = await cli(['check', '--units', u.unitsDir]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/web\.toml:\d+:\d+ \[\[socket\]\]\[0\]\.listen: the folder of the socket file, ".*no-such-folder", does not exist/);
  });
});
