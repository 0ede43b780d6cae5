// socket-launcher/service end to end: a Node fixture service, built from dist as users
// import it, gets its sockets by LISTEN_FDNAMES, serves HTTP on one and sends
// READY=1 that a real notify socket credits to the fixture's own pid; the same
// fixture under systemd's own systemd-socket-activate; no-ops without a launcher.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openNotifySocket } from '../../src/supervisor/notify.js';
import type { NotifyMessage } from '../../src/supervisor/contract.js';
import { close } from '../../src/sys/libc.js';
import { AF_INET } from '../../src/sys/sockaddr.js';
import { bind, getsockname, listen, setsockoptInt, socket, SOCK_CLOEXEC, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR } from '../../src/sys/socket.js';
import { stopFdWatcher } from '../../src/sys/poll.js';
import { freePort } from '../helpers/ports.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { requirePeers } from '../helpers/peers.js';
import { must, ok } from '../helpers/sys.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = path.join(root, 'test/fixtures/notify/service.mjs');
/** Starts argv with LISTEN_PID set to the pid that then execs argv (the launcher's shim). */
const SHIM = ['-c', 'LISTEN_PID=$$ exec "$0" "$@"'];

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
afterAll(() => stopFdWatcher());

beforeAll(async () => {
  // Build just the service entry point (and what it imports) into dist/, as `npm run build` would.
  await execa('npx', ['tsc', '-p', 'test/fixtures/notify/tsconfig.service.json'], { cwd: root });
}, 60_000);

/** A raw listening TCP socket on loopback (CLOEXEC, as the launcher holds it) and its port. */
function tcpListener(): { fd: number; port: number } {
  const fd = must(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC), 'socket');
  cleanups.push(() => void close(fd));
  must(setsockoptInt(fd, SOL_SOCKET, SO_REUSEADDR, 1), 'setsockopt');
  must(bind(fd, { family: 'inet4', host: '127.0.0.1', port: 0 }), 'bind');
  must(listen(fd, 64), 'listen');
  return { fd, port: Number(ok(getsockname(fd)).split(':').pop()) };
}

/** execa's types list only the literal fds 3-9 for stdio entries; child_process takes any open fd. */
function asStdioFd(fd: number): 3 {
  return fd as 3;
}

/** Kills the child after the test, whatever happened, and waits for it to be reaped. */
function track(child: { kill(signal: NodeJS.Signals): unknown } & Promise<unknown>): void {
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await child.catch(() => undefined);
  });
}

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  return { ...env, ...extra };
}

async function getJson(port: number): Promise<{ pid: number; names: string[] }> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return (await res.json()) as { pid: number; names: string[] };
}

describe('a Node service using socket-launcher/service', () => {
  it('serves on listener("http") and its READY=1 arrives with its own pid', async () => {
    const tmp = makeTmpDir('launcher-service-');
    cleanups.push(tmp.cleanup);
    const messages: NotifyMessage[] = [];
    const notifySocket = openNotifySocket(path.join(tmp.dir, 'notify.sock'), { onMessage: (m) => messages.push(m) });
    cleanups.push(() => notifySocket.close());
    const metrics = tcpListener();
    const http = tcpListener();

    const child = execa('/bin/sh', [...SHIM, process.execPath, fixture, 'serve', 'http'], {
      env: cleanEnv({ LISTEN_FDS: '2', LISTEN_FDNAMES: 'metrics:http', NOTIFY_SOCKET: notifySocket.address }),
      extendEnv: false,
      stdio: ['ignore', 'pipe', 'pipe', asStdioFd(metrics.fd), asStdioFd(http.fd)],
    });
    track(child);

    await waitFor(() => messages.some((m) => m.fields.get('READY') === '1'), { what: 'READY=1 from the fixture' });
    const ready = messages.find((m) => m.fields.get('READY') === '1')!;
    expect(ready.pid).toBe(child.pid);
    expect(messages.map((m) => Object.fromEntries(m.fields))).toEqual([{ STATUS: 'serving' }, { READY: '1' }]);

    const answer = await getJson(http.port);
    expect(answer).toEqual({ pid: child.pid, names: ['metrics', 'http'] });

    child.kill('SIGTERM');
    await child;
    await waitFor(() => messages.some((m) => m.fields.get('STOPPING') === '1'), { what: 'STOPPING=1' });
  });

  it('reports listeners() by LISTEN_FDNAMES, "unknown" without names, none for another LISTEN_PID', async () => {
    const a = tcpListener();
    const b = tcpListener();
    const report = async (env: Record<string, string>, viaShim: boolean) => {
      const argv = [process.execPath, fixture, 'report'];
      const { stdout } = await execa(viaShim ? '/bin/sh' : argv[0]!, viaShim ? [...SHIM, ...argv] : argv.slice(1), {
        env: cleanEnv(env),
        extendEnv: false,
        stdio: ['ignore', 'pipe', 'pipe', asStdioFd(a.fd), asStdioFd(b.fd)],
      });
      return JSON.parse(stdout) as { listeners: { name: string; fd: number }[]; sent: boolean; watchdog: number | null };
    };
    expect((await report({ LISTEN_FDS: '2', LISTEN_FDNAMES: 'web:admin' }, true)).listeners).toEqual([
      { name: 'web', fd: 3 },
      { name: 'admin', fd: 4 },
    ]);
    expect((await report({ LISTEN_FDS: '2' }, true)).listeners).toEqual([
      { name: 'unknown', fd: 3 },
      { name: 'unknown', fd: 4 },
    ]);
    // Meant for another process (a parent that did not unset them): not ours.
    expect((await report({ LISTEN_FDS: '2', LISTEN_PID: '1', LISTEN_FDNAMES: 'web:admin' }, false)).listeners).toEqual([]);
  });

  it('is a no-op without NOTIFY_SOCKET and without LISTEN_* (runs on its own)', async () => {
    const { stdout } = await execa(process.execPath, [fixture, 'report'], { env: cleanEnv({}), extendEnv: false });
    expect(JSON.parse(stdout)).toMatchObject({ listeners: [], sent: false, watchdog: null });
  });

  it('loads koffi only for a call that needs it, not at import', async () => {
    const probe = [
      "import { createRequire } from 'node:module';",
      `const service = await import(${JSON.stringify(path.join(root, 'dist/src/service/index.js'))});`,
      'const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes("/node_modules/koffi/"));',
      'const atImport = loaded();',
      'service.listeners({}); service.notify.ready(); service.watchdogInterval({});',
      'const afterNoOps = loaded();',
      'service.listeners({ LISTEN_PID: String(process.pid), LISTEN_FDS: "1" });',
      'console.log(JSON.stringify({ atImport, afterNoOps, afterCall: loaded() }));',
    ].join('\n');
    const { stdout } = await execa(process.execPath, ['--input-type=module', '-e', probe], {
      env: cleanEnv({}),
      extendEnv: false,
      stdio: ['ignore', 'pipe', 'pipe', asStdioFd(tcpListener().fd)],
    });
    expect(JSON.parse(stdout)).toEqual({ atImport: false, afterNoOps: false, afterCall: true });
  });

  it('reads WATCHDOG_USEC when WATCHDOG_PID is its own pid', async () => {
    const { stdout } = await execa('/bin/sh', ['-c', 'WATCHDOG_PID=$$ exec "$0" "$@"', process.execPath, fixture, 'report'], {
      env: cleanEnv({ WATCHDOG_USEC: '3000000' }),
      extendEnv: false,
    });
    expect(JSON.parse(stdout)).toMatchObject({ watchdog: 3000 });
  });

  it("works under systemd's own systemd-socket-activate (same protocol, no launcher)", async (context) => {
    requirePeers(context, 'systemd');
    const port = await freePort();
    const activator = execa(
      'systemd-socket-activate',
      ['-l', `127.0.0.1:${port}`, '--fdname=http', process.execPath, fixture, 'serve', 'http'],
      { env: cleanEnv({}), extendEnv: false },
    );
    track(activator);
    // It binds, sets LISTEN_PID to its own pid and execs the service in place.
    const answer = await waitFor(() => getJson(port), { what: 'an answer through systemd-socket-activate', timeoutMs: 10_000 });
    expect(answer.names).toEqual(['http']);
    expect(answer.pid).toBe(activator.pid);
  });
});
