// End to end: the control socket of a real `launcher up` refuses other users
// even when the file system would let them in, and survives thousands of
// malformed request lines without losing a beat.
import { chmodSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { portableCli, type PortableCli } from '../helpers/portable-cli.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, FIXTURES, cleanupLaunchers, httpGet, makeUnitDir, startLauncher, waitForHttp, type RunningLauncher } from '../helpers/launcher.js';
import { freePort } from '../helpers/ports.js';
import { withDeadline } from '../helpers/wait.js';

const NODE_SERVICE = path.join(FIXTURES, 'e2e/http-service.mjs');

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  for (const c of cleanups.splice(0)) c();
});

async function upWeb(): Promise<{ launcher: RunningLauncher; port: number; pid: string }> {
  const port = await freePort();
  const units = makeUnitDir({
    web: ['[service]', `exec = ["node", ${JSON.stringify(NODE_SERVICE)}]`, 'ready = "notify"', '[[socket]]', `listen = "127.0.0.1:${port}"`].join('\n'),
  });
  cleanups.push(units.cleanup);
  const launcher = await startLauncher(units.unitsDir);
  const pid = (await waitForHttp(port)).trim();
  return { launcher, port, pid };
}

// nobody may not be able to read the clone (it may live under a 0700 home): run a world-readable copy.
let portable: PortableCli;
beforeAll(async () => {
  portable = await portableCli(ROOT);
}, 60_000);
afterAll(() => portable.cleanup());

/** `launcher status` run as nobody (uid/gid 65534, no supplementary groups). */
function statusAsNobody(control: string): Promise<{ exitCode?: number; stdout: string; stderr: string }> {
  return execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, portable.cli, 'status', '--control', control], {
    reject: false,
    cwd: '/',
    timeout: 20_000,
  });
}

/** Some malformed line: garbage bytes, broken JSON, wrong shapes, huge lines. */
function malformedLine(i: number): string {
  const kinds = [
    () => Buffer.from(Array.from({ length: 1 + (i % 200) }, (_, k) => (i * 31 + k * 7) % 256)).toString('latin1').replace(/\n/g, ' '),
    () => '{"v":1,"id":',
    () => JSON.stringify({ v: 2, id: i, verb: 'status' }),
    () => JSON.stringify({ v: 1, id: -i, verb: 'status' }),
    () => JSON.stringify({ v: 1, id: i, verb: 'shutdown-now' }),
    () => JSON.stringify({ v: 1, id: i, verb: 'stop', args: { units: ['../etc'] } }),
    () => JSON.stringify({ v: 1, id: i, verb: 'status', args: { units: 'web' }, extra: true }),
    () => JSON.stringify([1, 2, 3]),
    () => 'null',
    () => 'x'.repeat(70_000),
  ];
  return kinds[i % kinds.length]!();
}

/** Writes `lines` on one control connection and waits until the launcher closes it (or it errors). */
function sendLines(control: string, lines: string[]): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    const socket = net.connect(control, () => {
      socket.write(lines.join('\n') + '\n');
      socket.end();
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('close', () => resolve(received));
    socket.on('error', () => {
      // EPIPE / ECONNRESET: the launcher closed the connection after its error reply, as documented.
    });
  });
}

describe('control socket security', () => {
  it('refuses another uid, even through a world-writable folder and socket', async () => {
    const { launcher, port, pid } = await upWeb();
    // As created: 0700 folder, 0600 socket — the file system stops nobody at connect().
    chmodSync(launcher.dir, 0o711); // the temp dir above ctl/, so only the launcher's own modes matter
    const blocked = await statusAsNobody(launcher.control);
    expect(blocked.exitCode, blocked.stderr).toBe(1);
    expect(blocked.stderr).toMatch(/permission denied on .*control\.sock/);
    expect(blocked.stdout).toBe('');

    // Opened up on disk: the launcher itself refuses the peer by its credentials.
    chmodSync(path.dirname(launcher.control), 0o777);
    chmodSync(launcher.control, 0o666);
    const refused = await statusAsNobody(launcher.control);
    expect(refused.exitCode, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(/uid 65534 may not control this launcher/);
    expect(refused.stdout).toBe('');
    await launcher.waitForLine(/refused a control connection from uid 65534/);

    // Root (the launcher's own uid here) is still served, and nothing changed.
    const ok = await launcher.cli(['status']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^web\\s+running\\s+${pid}\\s`, 'm'));
    expect((await httpGet(port)).body.trim()).toBe(pid);
  }, 40_000);

  it('survives 3000 malformed lines over 300 connections; status still answers', async () => {
    const { launcher, port, pid } = await upWeb();
    // The server answers a connection's first bad line and closes it, so spread
    // the lines over many connections (30 at a time) to have each one handled.
    const CONNECTIONS = 300;
    const PER_CONNECTION = 10;
    const replies: string[] = [];
    for (let batch = 0; batch < CONNECTIONS; batch += 30) {
      const sent = Array.from({ length: 30 }, (_, b) => {
        const c = batch + b;
        return sendLines(launcher.control, Array.from({ length: PER_CONNECTION }, (_, k) => malformedLine(c * PER_CONNECTION + k + c)));
      });
      replies.push(...(await withDeadline(Promise.all(sent), 30_000, 'malformed connections to be closed')));
    }
    expect(replies).toHaveLength(CONNECTIONS);
    // Every connection got exactly one protocol error for its first bad line, then was closed.
    for (const reply of replies) {
      const lines = reply.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      const parsed = JSON.parse(lines[0]!) as { v: number; error: { code: string } };
      expect(parsed.v).toBe(1);
      expect(parsed.error.code).toBe('LAUNCHER_CONTROL_PROTOCOL');
    }

    // One connection that sends only garbage without ever ending a line, then vanishes.
    const dangling = net.connect(launcher.control);
    dangling.on('error', () => {});
    await new Promise<void>((resolve) => dangling.on('connect', resolve));
    dangling.write('{'.repeat(10_000));
    dangling.destroy();

    const status = await launcher.cli(['status', '--json']);
    expect(status.exitCode, status.stderr).toBe(0);
    const units = (JSON.parse(status.stdout) as { units: { name: string; state: string; pids: number[] }[] }).units;
    expect(units).toEqual([expect.objectContaining({ name: 'web', state: 'running', pids: [Number(pid)] })]);
    expect((await httpGet(port)).body.trim()).toBe(pid);
    expect(process.kill(launcher.pid, 0)).toBe(true);
  }, 60_000);
});
