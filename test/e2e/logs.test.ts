// Services' output as a user lives with it (issue 12): real pipes (lighttpd's
// error log at /dev/stderr, a shell writing > /dev/stdout), the in-memory log and
// `launcher logs [-n] [-f] [--json]`, followers fast and slow, `up --log-dir`
// rotation, colour rules and sd-daemon priorities when stdout is the journal.
import { execa } from 'execa';
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, statSync, writeFileSync, fstatSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { waitFor, withDeadline } from '../helpers/wait.js';
import { CLI, cleanupLaunchers, cli, httpGet, makeUnitDir, startLauncher } from '../helpers/launcher.js';
import { collectLines } from '../helpers/output-lines.js';
import { requirePeers } from '../helpers/peers.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function unitDir(units: Record<string, string>, files: Record<string, string> = {}) {
  const dir = makeUnitDir(units, files);
  cleanups.push(dir.cleanup);
  return dir;
}

const sh = (script: string, extra = ''): string => `[service]\nexec = ["/bin/sh", "-c", ${JSON.stringify(script)}]\n${extra}`;

/** `launcher up` with stdout and stderr at /dev/null (nothing to read it by): ready once `status` answers. */
async function upAtDevNull(unitsDir: string, args: string[] = []) {
  const control = path.join(path.dirname(unitsDir), 'ctl', 'control.sock');
  const child = execa(process.execPath, [CLI, 'up', '--units', unitsDir, '--control', control, ...args], { stdio: 'ignore', reject: false });
  const exited = child.then((r) => r.exitCode ?? -1);
  cleanups.push(async () => {
    child.kill('SIGTERM');
    await withDeadline(exited, 20_000, 'launcher exit').catch(() => child.kill('SIGKILL'));
  });
  const verb = (verbArgs: string[]) => cli([...verbArgs, '--control', control]);
  await waitFor(async () => (await verb(['status'])).exitCode === 0, { timeoutMs: 20_000, what: 'the launcher to answer status' });
  return { control, verb, pid: child.pid ?? -1, exited, stop: () => child.kill('SIGTERM') };
}

/** `logs -f` as a running client whose output lines can be awaited. */
function follow(control: string, args: string[]) {
  const child = execa(process.execPath, [CLI, 'logs', '-f', ...args, '--control', control], { reject: false, buffer: false });
  const out = collectLines([child.stdout, child.stderr], 'logs -f');
  cleanups.push(async () => {
    child.kill('SIGINT');
    await child;
  });
  return { ...out, child };
}

describe('services write to real pipes', () => {
  it('lighttpd with server.errorlog = "/dev/stderr" serves, and its error log reaches the launcher and `logs`', async (context) => {
    requirePeers(context, 'lighttpd');
    const port = await freePort();
    const dir = unitDir({}, {});
    const www = path.join(dir.dir, 'www');
    mkdirSync(www);
    writeFileSync(path.join(www, 'hello.txt'), 'hello from lighttpd');
    const conf = path.join(dir.dir, 'lighttpd.conf');
    writeFileSync(conf, [
      `server.document-root = "${www}"`, `server.port = ${port}`, 'server.bind = "127.0.0.1"',
      'server.systemd-socket-activation = "enable"', 'server.errorlog = "/dev/stderr"',
    ].join('\n') + '\n');
    writeFileSync(path.join(dir.unitsDir, 'www.toml'), `[service]\nexec = ["/usr/sbin/lighttpd", "-D", "-f", "${conf}"]\n[[socket]]\nlisten = "127.0.0.1:${port}"\n`);
    const launcher = await startLauncher(dir.unitsDir);
    // lighttpd opens /dev/stderr by path at start-up: over a socketpair that is ENXIO and it exits.
    await launcher.waitForLine(/^www\[\d+\] .*server started/, 20_000);
    expect((await httpGet(port, '/hello.txt')).body).toBe('hello from lighttpd');
    const logs = await launcher.cli(['logs', 'www', '-n', '50']);
    expect(logs.stdout).toMatch(/www\[\d+\] .*server started/);
  });

  it('a shell service writing > /dev/stdout and > /dev/stderr is seen, each line on its stream', async () => {
    const dir = unitDir({ bypath: sh('echo to-stdout > /dev/stdout; echo to-stderr > /dev/stderr; exec sleep 1000') });
    const launcher = await startLauncher(dir.unitsDir);
    await launcher.waitForLine(/^bypath\[\d+\] to-stdout$/);
    await launcher.waitForLine(/^bypath\[\d+\] to-stderr$/);
    const json = (await launcher.cli(['logs', 'bypath', '--json', '-n', '100'])).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json.find((r) => r.text === 'to-stdout')).toMatchObject({ unit: 'bypath', instance: 0, stream: 'stdout', pid: expect.any(Number) });
    expect(json.find((r) => r.text === 'to-stderr')).toMatchObject({ unit: 'bypath', stream: 'stderr' });
  });
});

describe('launcher logs', () => {
  it('keeps log_lines per unit, interleaves units by time, includes the launcher\'s events, works with stdout at /dev/null', async () => {
    const dir = unitDir({
      few: sh('for i in $(seq 1 20); do echo few $i; done; echo few-done; exec sleep 1000', 'log_lines = 5\nready_after = "0"\n'),
      many: sh('for i in $(seq 1 20); do echo many $i; done; echo many-done; exec sleep 1000'),
    });
    const up = await upAtDevNull(dir.unitsDir);
    await waitFor(async () => /few-done/.test((await up.verb(['logs', 'few'])).stdout) && /many-done/.test((await up.verb(['logs', 'many'])).stdout), { timeoutMs: 20_000, what: 'both units\' output' });
    const few = (await up.verb(['logs', 'few', '-n', '100'])).stdout.trim().split('\n');
    expect(few).toHaveLength(5); // log_lines = 5 (its launcher events count too)
    expect(few.at(-1)).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z few\[\d+\] few-done$/);
    const all = (await up.verb(['logs', '-n', '1000', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; unit?: string; time: string; source: string });
    expect(all.map((r) => r.seq)).toEqual([...all.map((r) => r.seq)].sort((a, b) => a - b));
    expect(all.some((r) => r.unit === 'many' && r.source === 'launcher')).toBe(true); // "#0: starting -> running"
    expect(all.some((r) => r.unit === undefined && r.source === 'launcher')).toBe(true); // "1 unit loaded"
    expect(all.filter((r) => r.unit === 'many' && r.source === 'child')).toHaveLength(21);
    expect((await up.verb(['logs', '-n', '3'])).stdout.trim().split('\n')).toHaveLength(3);
    const unknown = await up.verb(['logs', 'nosuch']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/no unit named "nosuch"/);
  });

  it('-f: several followers each get every new line, and end with exit 0 when the launcher stops', async () => {
    const dir = unitDir({ ticker: sh('i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done') });
    const up = await upAtDevNull(dir.unitsDir);
    const a = follow(up.control, ['ticker', '-n', '0']);
    const b = follow(up.control, ['--json']);
    const first = Number(/tick (\d+)/.exec(await a.waitForLine(/ticker\[\d+\] tick \d+/, 20_000))?.[1]);
    await a.waitForLine(new RegExp(`tick ${first + 3}$`), 20_000);
    await b.waitForLine(new RegExp(`"text":"tick ${first + 3}"`), 20_000);
    // When the launcher stops, followers end cleanly (exit 0), not with "no launcher".
    expect((await up.verb(['down'])).exitCode).toBe(0);
    expect((await withDeadline(a.child, 20_000, 'follower a to end')).exitCode).toBe(0);
    expect((await withDeadline(b.child, 20_000, 'follower b to end')).exitCode).toBe(0);
  });

  it('a follower that does not read is skipped, with a count; the service and other clients are not held up', async () => {
    const dir = unitDir({});
    // The burst waits on a fifo, so the stuck follower is attached before it starts.
    const fifo = path.join(dir.dir, 'go');
    await execa('mkfifo', [fifo]);
    writeFileSync(path.join(dir.unitsDir, 'burst.toml'), sh(`read go < ${fifo}; seq 1 100000 | sed "s/$/ ${'x'.repeat(70)}/"; echo burst-done; exec sleep 1000`));
    const up = await upAtDevNull(dir.unitsDir);
    const stuck = net.connect(up.control);
    await new Promise<void>((resolve) => stuck.once('connect', () => resolve()));
    cleanups.push(() => void stuck.destroy());
    stuck.write(JSON.stringify({ v: 1, id: 1, verb: 'logs', args: { units: ['burst'], lines: 0, follow: true } }) + '\n');
    stuck.pause(); // never reads: the launcher must not wait for it
    writeFileSync(fifo, 'go\n');
    // The unit's log also holds the launcher's own records about it: "starting -> running" comes
    // ready_after (1 s) after the spawn, before or after the burst's last line, so look at a few.
    await waitFor(async () => /burst-done/.test((await up.verb(['logs', 'burst', '-n', '10'])).stdout), { timeoutMs: 60_000, what: 'the burst to finish while a follower is stuck' });
    // Now it reads: the lines it missed are a count, then the stream goes on.
    const replies = collectLines([stuck], 'stuck follower');
    stuck.resume();
    const skipped = await replies.waitForLine(/"skipped":\d+/, 20_000);
    expect(Number(/"skipped":(\d+)/.exec(skipped)?.[1])).toBeGreaterThan(1000);
  }, 120_000); // its own waits allow 60 s for the burst and 20 s for the count: the test's limit must exceed them
});

describe('up --log-dir', () => {
  it('writes <unit>.log and launcher.log, rotated at --log-max-size keeping --log-keep files, without colour', async () => {
    const dir = unitDir({ noisy: sh('seq 1 5000 | sed "s/$/ some output/"; echo noisy-done; exec sleep 1000') });
    const logDir = path.join(dir.dir, 'logs');
    const launcher = await startLauncher(dir.unitsDir, { args: ['--log-dir', logDir, '--log-max-size', '8KiB', '--log-keep', '2'], env: { FORCE_COLOR: '1' } });
    await launcher.waitForLine(/noisy-done/, 30_000);
    expect(launcher.lines.some((l) => l.includes('\x1b['))).toBe(true); // FORCE_COLOR colours stdout ...
    await waitFor(() => existsSync(path.join(logDir, 'noisy.log')) && readFileSync(path.join(logDir, 'noisy.log'), 'utf8').includes('noisy-done'), { what: 'the last line in noisy.log' });
    const files = readdirSync(logDir).sort();
    expect(files).toEqual(['launcher.log', 'noisy.log', 'noisy.log.1', 'noisy.log.2']);
    for (const f of files) expect(statSync(path.join(logDir, f)).size).toBeLessThanOrEqual(8192);
    const text = files.map((f) => readFileSync(path.join(logDir, f), 'utf8')).join('');
    expect(text).not.toContain('\x1b['); // ... never files
    expect(readFileSync(path.join(logDir, 'noisy.log'), 'utf8')).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z noisy\[\d+\] \d+ some output$/m);
    expect(readFileSync(path.join(logDir, 'launcher.log'), 'utf8')).toMatch(/launcher: 1 unit loaded/);
  });

  it('refuses a bad --log-max-size or --log-keep with exit 2', async () => {
    const dir = unitDir({ a: sh('exec sleep 1000') });
    const r = await cli(['up', '--units', dir.unitsDir, '--log-dir', path.join(dir.dir, 'l'), '--log-max-size', 'lots']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--log-max-size: expected a size .* got "lots"/);
    const k = await cli(['up', '--units', dir.unitsDir, '--log-keep', '-1']);
    expect(k.exitCode).toBe(2);
    expect(k.stderr).toMatch(/--log-keep/);
  });
});

describe('stdout decoration', () => {
  it('FORCE_COLOR=0 turns colour off; --log-format json never has colour, even with FORCE_COLOR=1', async () => {
    const dir = unitDir({ plain: sh('echo hi; exec sleep 1000') });
    const off = await startLauncher(dir.unitsDir, { env: { FORCE_COLOR: '0' } });
    await off.waitForLine(/plain\[\d+\] hi/);
    expect(off.lines.join('\n')).not.toContain('\x1b[');
    await off.stop();
    const json = await startLauncher(dir.unitsDir, { args: ['--log-format', 'json'], env: { FORCE_COLOR: '1' }, wait: /loaded/ });
    await json.waitForLine(/"text":"hi"/);
    expect(json.lines.join('\n')).not.toContain('\x1b[');
  });

  it('when stdout is the journal (JOURNAL_STREAM = its dev:ino) lines carry <6>, <4> and <3> priorities', async () => {
    const dir = unitDir({ prio: sh('echo fine; echo bad >&2; exec sleep 1000'), broken: sh('exit 3', 'restart = "no"\n') });
    const outFile = path.join(dir.dir, 'journal.txt');
    const fd = openSync(outFile, 'w');
    const st = fstatSync(fd, { bigint: true });
    const control = path.join(dir.dir, 'ctl', 'control.sock');
    const child = execa(process.execPath, [CLI, 'up', '--units', dir.unitsDir, '--control', control], {
      stdio: ['ignore', fd as 3, fd as 3], reject: false, env: { JOURNAL_STREAM: `${st.dev}:${st.ino}`, FORCE_COLOR: '1' },
    });
    closeSync(fd);
    cleanups.push(async () => {
      child.kill('SIGTERM');
      await child;
    });
    await waitFor(() => /<3>prio\[\d+\] bad/.test(readFileSync(outFile, 'utf8')), { timeoutMs: 20_000, what: 'a stderr line with <3>' });
    const text = readFileSync(outFile, 'utf8');
    expect(text).toMatch(/^<6>prio\[\d+\] fine$/m);
    expect(text).toMatch(/^<6>launcher: 2 units loaded/m);
    expect(text).toMatch(/^<[34]>broken(\[\d+\])?: .*(exit|status|code).*3/m);
    expect(text).not.toContain('\x1b['); // even with FORCE_COLOR: the journal gets priorities, not colours
  });
});
