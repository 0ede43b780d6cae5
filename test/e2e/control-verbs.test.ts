// End to end: the control verbs through the real CLI against a real
// `launcher up` — status (table and JSON), stop/start (sockets stay open,
// start clears failed), unknown units, down, and no launcher at all.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, cleanupLaunchers, cli, httpGet, makeUnitDir, startLauncher, waitForHttp, type RunningLauncher, statusJson, unitStatus, tcpConnects } from '../helpers/launcher.js';
import { freePort } from '../helpers/ports.js';
import { waitFor, withDeadline } from '../helpers/wait.js';

const NODE_SERVICE = path.join(FIXTURES, 'e2e/http-service.mjs');
const MODE_SERVICE = path.join(FIXTURES, 'e2e/restart/mode-service.mjs');

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  for (const c of cleanups.splice(0)) c();
});

const HELLO = `const { notify } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/src/service/index.js')).href)}); notify.status('hello'); notify.ready(); setInterval(() => {}, 1 << 30);`;

/** Two units: `web` (the Node fixture on TCP and a unix socket) and `hello` (sends STATUS=hello). */
async function upTwoUnits(): Promise<{ launcher: RunningLauncher; port: number; unitsDir: string }> {
  const port = await freePort();
  const units = makeUnitDir({
    web: [
      '[service]',
      `exec = ["node", ${JSON.stringify(NODE_SERVICE)}]`,
      'ready = "notify"',
      '[[socket]]',
      `listen = "127.0.0.1:${port}"`,
      '[[socket]]',
      'listen = "unix:web.sock"',
      'name = "local"',
    ].join('\n'),
    // STATUS=hello through the built service helper (socket-launcher/service) (systemd-notify is not on every machine; restart-notify.test.ts drives it).
    hello: ['[service]', `exec = ["node", "--input-type=module", "-e", ${JSON.stringify(HELLO)}]`, 'ready = "notify"'].join('\n'),
  });
  cleanups.push(units.cleanup);
  const launcher = await startLauncher(units.unitsDir);
  await waitForHttp(port);
  await waitFor(async () => (await unitStatus(launcher, 'hello')).state === 'running', { timeoutMs: 15_000, what: 'hello running' });
  return { launcher, port, unitsDir: units.unitsDir };
}

describe('launcher status', () => {
  it('prints a table and JSON with state, pids, sockets, uptime, restarts and STATUS= text', async () => {
    const { launcher, port, unitsDir } = await upTwoUnits();
    const webPid = Number((await httpGet(port)).body.trim());

    const table = await launcher.cli(['status']);
    expect(table.exitCode, table.stderr).toBe(0);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^UNIT\s+STATE\s+PID\s+SOCKETS\s+UPTIME\s+RESTARTS\s+STATUS$/);
    expect(rows).toHaveLength(5);
    expect(rows[3]).toBe('');
    expect(rows[4]).toMatch(/^launcher \d+\.\d+\.\d+\S*, pid \d+, up \S+$/);
    expect(rows[1]).toMatch(/^hello\s+running\s+\d+\s+-\s+\S+\s+0\s+hello$/);
    expect(rows[2]).toMatch(new RegExp(`^web\\s+running\\s+${webPid}\\s+127\\.0\\.0\\.1:${port},\\S*web\\.sock\\s+\\S+\\s+0$`));

    const json = await statusJson(launcher);
    expect(json.launcher.pid).toBe(launcher.pid);
    expect(json.units.map((u) => u.name)).toEqual(['hello', 'web']);
    const [hello, web] = json.units;
    expect(hello).toMatchObject({ state: 'running', restarts: 0, statusText: 'hello', sockets: [] });
    expect(hello!.pids).toHaveLength(1);
    expect(web).toMatchObject({ state: 'running', pids: [webPid], restarts: 0, statusText: null });
    expect(web!.sockets).toEqual([
      { name: 'web', listen: `127.0.0.1:${port}`, local: `127.0.0.1:${port}` },
      expect.objectContaining({ name: 'local', local: path.join(unitsDir, 'web.sock') }),
    ]);
    expect(web!.uptimeMs).toBeGreaterThan(0);
    expect(web!.uptimeMs).toBeLessThan(120_000);

    // Only the units asked for.
    expect((await statusJson(launcher, 'web')).units.map((u) => u.name)).toEqual(['web']);
  }, 40_000);
});

describe('launcher stop / start', () => {
  it('stop leaves the unit inactive with its socket open; start runs a new child that answers', async () => {
    const { launcher, port } = await upTwoUnits();
    const oldPid = Number((await httpGet(port)).body.trim());
    const helloPid = (await unitStatus(launcher, 'hello')).pids[0];

    const stopped = await launcher.cli(['stop', 'web']);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(stopped.stdout).toBe('web: inactive');
    expect(await unitStatus(launcher, 'web')).toMatchObject({ state: 'inactive', pids: [] });
    expect(existsSync(`/proc/${oldPid}`)).toBe(false);
    expect(await tcpConnects(port)).toBe(true);

    // A request made while stopped waits in the backlog and is answered by the next child.
    const waiting = httpGet(port, '/', '127.0.0.1', 20_000);
    const started = await launcher.cli(['start', 'web']);
    expect(started.exitCode, started.stderr).toBe(0);
    expect(started.stdout).toBe('web: running');
    const web = await unitStatus(launcher, 'web');
    expect(web.state).toBe('running');
    expect(web.pids).toHaveLength(1);
    expect(web.pids[0]).not.toBe(oldPid);
    expect((await waiting).body.trim()).toBe(String(web.pids[0]));
    expect((await unitStatus(launcher, 'hello')).pids).toEqual([helloPid]);
  }, 40_000);

  it('start clears a failed unit', async () => {
    const port = await freePort();
    const units = makeUnitDir(
      {
        flaky: [
          '[service]',
          `exec = ["node", ${JSON.stringify(MODE_SERVICE)}]`,
          'ready = "notify"',
          'restart_delay = "50ms"',
          'start_limit_burst = 1',
          '[[socket]]',
          `listen = "127.0.0.1:${port}"`,
        ].join('\n'),
        // `up` exits once every unit has ended for good (docs/behaviour.md): keep one running.
        idle: '[service]\nexec = ["sleep", "1000"]\n',
      },
      { 'mode.txt': 'exit\n' },
    );
    cleanups.push(units.cleanup);
    const launcher = await startLauncher(units.unitsDir);
    await launcher.waitForLine(/^flaky\[\d+\]: .*-> failed/);
    expect((await unitStatus(launcher, 'flaky')).state).toBe('failed');

    writeFileSync(path.join(units.unitsDir, 'mode.txt'), 'ok\n');
    const r = await launcher.cli(['start', 'flaky']);
    expect(r.exitCode, r.stderr).toBe(0);
    const body = await waitForHttp(port);
    expect(await unitStatus(launcher, 'flaky')).toMatchObject({ state: 'running', pids: [Number(body.trim())] });
  }, 40_000);

  it('an unknown unit is a usage error (exit 2) and changes nothing', async () => {
    const { launcher, port } = await upTwoUnits();
    const pid = (await httpGet(port)).body.trim();
    for (const verb of ['status', 'start', 'stop', 'restart']) {
      const r = await launcher.cli([verb, 'nope']);
      expect(r.exitCode, `${verb}: ${r.stdout}${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/nope/);
    }
    expect((await httpGet(port)).body.trim()).toBe(pid);
  }, 40_000);
});

describe('launcher down / no launcher', () => {
  it('down stops everything, exits 0 and removes its socket files', async () => {
    const { launcher, port, unitsDir } = await upTwoUnits();
    const pids = (await statusJson(launcher)).units.flatMap((u) => u.pids);
    expect(pids).toHaveLength(2);
    expect(existsSync(launcher.control)).toBe(true);
    expect(existsSync(path.join(unitsDir, 'web.sock'))).toBe(true);

    const r = await launcher.cli(['down']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await withDeadline(launcher.exited, 20_000, 'launcher exit after down')).toBe(0);
    expect(existsSync(launcher.control)).toBe(false);
    expect(existsSync(path.join(unitsDir, 'web.sock'))).toBe(false);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(await tcpConnects(port)).toBe(false);
  }, 40_000);

  it('every verb exits 3 with a hint when no launcher answers', async () => {
    const units = makeUnitDir({});
    cleanups.push(units.cleanup);
    const control = path.join(units.dir, 'ctl', 'control.sock');
    for (const args of [['status'], ['status', '--json'], ['start', 'web'], ['stop', 'web'], ['restart', 'web'], ['reload'], ['down']]) {
      const r = await cli([...args, '--control', control]);
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toContain(control);
      expect(r.stderr).toMatch(/launcher up/);
      expect(r.stdout).toBe('');
    }
  }, 40_000);
});
