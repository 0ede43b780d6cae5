// End to end: the Node helper `socket-launcher/service` as a user imports it — by the
// package name, through package.json "exports" — in a service the real CLI
// runs: its listeners() match LISTEN_FDNAMES for two named sockets, each
// socket serves what its name says, and notify.ready() is what makes the
// unit running (ready = "notify").
import { execa } from 'execa';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { waitFor, withDeadline } from '../helpers/wait.js';
import { cleanupLaunchers, FIXTURES, httpGet, makeUnitDir, ROOT, startLauncher, statusJson } from '../helpers/launcher.js';

const SERVICE = path.join(FIXTURES, 'e2e/fleet/named-sockets.mjs');

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  cleanups.splice(0).forEach((c) => c());
});

/** Connects, reads until the peer closes, resolves with what it sent. */
function readAll(port: number): Promise<string> {
  return withDeadline(
    new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = net.connect(port, '127.0.0.1');
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    }),
    10_000,
    `a reply on port ${port}`,
  );
}

describe('socket-launcher/service, imported by package name', () => {
  it('resolves through package.json "exports" to the built helper, from inside the package only', async () => {
    // What `import ... from 'socket-launcher/service'` in the fixtures (and units/web.mjs) loads, as plain Node resolves it.
    const resolve = ['--input-type=module', '-e', "console.log(import.meta.resolve('socket-launcher/service'))"];
    const inside = await execa(process.execPath, resolve, { cwd: ROOT, reject: false });
    expect(inside.stdout).toBe(`file://${path.join(ROOT, 'dist/src/service/index.js')}`);
    const outside = await execa(process.execPath, resolve, { cwd: tmpdir(), reject: false });
    expect(outside.exitCode).not.toBe(0); // self-reference: outside the package, `socket-launcher` must be installed
  });

  it('gets ready through notify.ready(), and listeners() match LISTEN_FDNAMES for two named sockets', async () => {
    const adminPort = await freePort();
    const apiPort = await freePort();
    const tmp = makeUnitDir({
      app: `[service]
exec = ["node", ${JSON.stringify(SERVICE)}]
ready = "notify"
ready_timeout = "20s"

[[socket]]
listen = "127.0.0.1:${adminPort}"
name = "admin"

[[socket]]
listen = "127.0.0.1:${apiPort}"
name = "api"
`,
    });
    cleanups.push(tmp.cleanup);
    const launcher = await startLauncher(tmp.unitsDir);

    const running = await launcher.waitForLine(/app\[\d+\]: #0: starting -> running \(READY=1\)/, 20_000);
    const pid = Number(/app\[(\d+)\]/.exec(running)![1]);
    // READY=1 came from notify.ready(), which the service calls once both sockets serve. Its output
    // (a pipe) and its READY=1 (a datagram) have no order between them: wait for the line, do not
    // compare positions.
    await launcher.waitForLine(new RegExp(`^app\\[${pid}\\] both sockets served, sending READY=1$`));

    const report = await launcher.waitForLine(new RegExp(`^app\\[${pid}\\] listeners `));
    expect(report).toBe(`app[${pid}] listeners ${JSON.stringify([{ name: 'admin', fd: 3 }, { name: 'api', fd: 4 }])} LISTEN_FDNAMES=admin:api LISTEN_FDS=2`);

    // Each name leads to the right socket: "api" is HTTP on the second port, "admin" the line on the first.
    const api = await httpGet(apiPort);
    expect(api).toEqual({ status: 200, body: `api ${pid}\n` });
    expect(await readAll(adminPort)).toBe(`admin ${pid}\n`);

    const status = await waitFor(async () => (await statusJson(launcher)).units[0], { what: 'status' });
    expect(status.state).toBe('running');
    expect(status.pids).toEqual([pid]);
    expect(status.sockets.map((s) => s.name)).toEqual(['admin', 'api']);
  });
});
