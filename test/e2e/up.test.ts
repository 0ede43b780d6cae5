// `launcher up` and `launcher run` end to end: the activation protocol as real
// clients see it through the CLI, the output format, and bind failures.
import { execa } from 'execa';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { cleanupLaunchers, FIXTURES, httpGet, makeUnitDir, startLauncher, waitForHttp } from '../helpers/launcher.js';
import { buildLibsystemdClient, requirePeers } from '../helpers/peers.js';

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  cleanups.splice(0).forEach((c) => c());
});

const HTTP_SERVICE = path.join(FIXTURES, 'e2e/http-service.mjs');
let sdListen = '';
let build = { cleanup: () => {} };
beforeAll(async () => {
  const client = await buildLibsystemdClient(path.join(FIXTURES, 'services/sd-listen.c'));
  [sdListen, build] = [client.path, client];
});
afterAll(() => build.cleanup());

/** Listens on `port` itself (to take an address away from the launcher). */
function occupy(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

describe('launcher up', () => {
  it('hands a libsystemd client its TCP, unix and UDP sockets by name, and nothing else', async (context) => {
    requirePeers(context, 'libsystemd');
    const port = await freePort();
    const dir = makeUnitDir({
      sd: [
        '[service]',
        `exec = ["${sdListen}"]`,
        'restart = "no"',
        '[[socket]]',
        `listen = "127.0.0.1:${port}"`,
        'name = "web"',
        '[[socket]]',
        'listen = "unix:sd.sock"',
        'name = "admin"',
        '[[socket]]',
        `listen = "127.0.0.1:${port}"`,
        'type = "datagram"',
        'name = "metrics"',
      ].join('\n'),
    });
    cleanups.push(dir.cleanup);
    const launcher = await startLauncher(dir.unitsDir);
    // The client prints and exits 0; with nothing left running the launcher exits 0.
    expect(await launcher.exited).toBe(0);
    const out = launcher.lines.filter((l) => /^sd\[\d+\] /.test(l)).map((l) => l.replace(/^sd\[\d+\] /, ''));
    expect(out).toContain('count 3');
    expect(out).toContain('fd 3 web stream-listening=1 seqpacket-listening=0 dgram=0 unix=0');
    expect(out).toContain('fd 4 admin stream-listening=1 seqpacket-listening=0 dgram=0 unix=1');
    expect(out).toContain('fd 5 metrics stream-listening=0 seqpacket-listening=0 dgram=1 unix=0');
    expect(out.filter((l) => l.startsWith('open ')).sort()).toEqual(['open 0', 'open 1', 'open 2', 'open 3', 'open 4', 'open 5']);
  });

  it('prefixes each child line with unit[pid], keeps a partial last line, and logs JSON with --log-format json', async () => {
    const script = "printf 'first\\nno newline at the end'";
    const dir = makeUnitDir({ talk: `[service]\nexec = ["sh", "-c", ${JSON.stringify(script)}]\nrestart = "no"\n` });
    cleanups.push(dir.cleanup);
    const text = await startLauncher(dir.unitsDir);
    expect(await text.exited).toBe(0);
    const pidLine = text.lines.find((l) => /^talk\[\d+\] first$/.test(l));
    expect(pidLine).toBeDefined();
    const pid = /\[(\d+)\]/.exec(pidLine ?? '')?.[1];
    expect(text.lines).toContain(`talk[${pid}] no newline at the end`);

    const json = await startLauncher(dir.unitsDir, { args: ['--log-format', 'json'], wait: /loaded/ });
    expect(await json.exited).toBe(0);
    const records = json.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const child = records.filter((r) => r.source === 'child');
    expect(child.map((r) => r.text)).toEqual(['first', 'no newline at the end']);
    expect(child[0]).toMatchObject({ unit: 'talk', stream: 'stdout', instance: 0 });
    expect(typeof child[0]?.pid).toBe('number');
  });

  it('serves a Node service on its fd, and stops it with SIGTERM (exit 0)', async () => {
    const port = await freePort();
    const dir = makeUnitDir({
      web: `[service]\nexec = ["node", "${HTTP_SERVICE}"]\nready = "notify"\n[[socket]]\nlisten = "127.0.0.1:${port}"\n`,
    });
    cleanups.push(dir.cleanup);
    const launcher = await startLauncher(dir.unitsDir);
    const body = await waitForHttp(port);
    expect(Number(body)).toBeGreaterThan(0);
    expect(await launcher.stop('SIGTERM')).toBe(0);
    await expect(httpGet(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses to start when an address is taken: exit 1, names unit, socket and address, binds nothing', async () => {
    const [free, taken] = [await freePort(), await freePort()];
    const blocker = await occupy(taken);
    cleanups.push(() => blocker.close());
    const dir = makeUnitDir({
      a: `[service]\nexec = ["node", "${HTTP_SERVICE}"]\n[[socket]]\nlisten = "127.0.0.1:${free}"\n`,
      b: `[service]\nexec = ["node", "${HTTP_SERVICE}"]\n[[socket]]\nlisten = "127.0.0.1:${taken}"\nname = "api"\n`,
    });
    cleanups.push(dir.cleanup);
    const r = await execa(process.execPath, [path.resolve('dist/cmd/launcher.js'), 'up', '--units', dir.unitsDir, '--control', path.join(dir.dir, 'c.sock')], { reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`b: socket "api" 127.0.0.1:${taken}`);
    expect(r.stderr).toMatch(/address already in use/i);
    expect(r.stdout).not.toMatch(/serving/);
    // Nothing was left bound: the free port can be taken now.
    const again = await occupy(free);
    again.close();
  });

  it('exits 2 on an invalid unit directory without starting anything', async () => {
    const dir = makeUnitDir({ web: '[service]\nexec = ["nod"]\n' });
    cleanups.push(dir.cleanup);
    const r = await execa(process.execPath, [path.resolve('dist/cmd/launcher.js'), 'up', '--units', dir.unitsDir, '--control', path.join(dir.dir, 'c.sock')], {
      reject: false,
      cwd: dir.dir,
    });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('units/web.toml:2:8 [service].exec: "nod" not found in PATH');
  });
});

describe('launcher run', () => {
  it('runs one command on the sockets given with -l', async () => {
    const port = await freePort();
    const tmp = makeTmpDir();
    cleanups.push(tmp.cleanup);
    const launcher = await startLauncher(path.join(tmp.dir, 'units'), {
      command: ['run', '-l', `127.0.0.1:${port}`, '--fdname', 'http', '--ready', 'notify', '--control', path.join(tmp.dir, 'c.sock'), '--', 'node', HTTP_SERVICE],
    });
    expect(Number(await waitForHttp(port))).toBeGreaterThan(0);
    expect(await launcher.stop('SIGINT')).toBe(0);
  });

  it('without a command after -- is a usage error (exit 2)', async () => {
    const r = await execa(process.execPath, [path.resolve('dist/cmd/launcher.js'), 'run', '-l', '8080'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('needs a command');
  });
});
