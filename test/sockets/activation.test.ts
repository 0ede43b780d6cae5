// The activation protocol as clients no one here wrote see it: libsystemd (C),
// python3-systemd, gunicorn, lighttpd and Node's listen({fd: 3}), each served through
// sockets the launcher bound and passed (TCP, unix, abstract, UDP, IPv6).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bindUnitSockets } from '../../src/sockets/index.js';
import { markStrayFdsCloexec } from '../../src/sys/fds.js';
import { readProcStat } from '../../src/sys/process.js';
import { Tracker, fixturePath, httpGet, q, stdoutOf, udpRoundTrip, unitFrom } from '../helpers/services.js';
import { freePort } from '../helpers/ports.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor, withDeadline } from '../helpers/wait.js';
import { buildLibsystemdClient, requirePeers } from '../helpers/peers.js';

const PYTHON = '/usr/bin/python3';
let tmp: { dir: string; cleanup: () => void };
let build: { path: string; cleanup: () => void };
let sdListen: string | undefined;
const tracker = new Tracker();

beforeAll(async () => {
  // As the entrypoint does at start-up: no fd this test process inherited may reach a child.
  markStrayFdsCloexec(new Set());
  build = await buildLibsystemdClient(fixturePath('sd-listen.c'));
  sdListen = build.path || undefined;
});
afterAll(() => build.cleanup());
beforeEach(() => {
  tmp = makeTmpDir('launcher-act-');
});
afterEach(async () => {
  await tracker.cleanup();
  tmp.cleanup();
});

/** A unit running `exec` with the given [[socket]] bodies. */
function unitWith(name: string, exec: string[], ...sockets: string[]) {
  return unitFrom(tmp.dir, name, `[service]\nexec = ${JSON.stringify(exec)}\n` + sockets.map((s) => `[[socket]]\n${s}\n`).join(''));
}

async function startNodeHttp(listen: string, extra = '') {
  const unit = await unitWith('web', ['node', fixturePath('http-fd3.mjs')], `listen = ${q(listen)}\n${extra}`);
  const sockets = tracker.socket(bindUnitSockets(unit));
  const run = tracker.spawn({ unit, instance: 0, sockets });
  await waitFor(() => stdoutOf(run.lines).some((l) => l.startsWith('listening')), { what: 'the Node service to listen' });
  return { ...run, sockets };
}

describe('libsystemd client (C)', () => {
  for (const shim of ['sh', 'node'] as const) {
    it(`sd_listen_fds_with_names() sees TCP, unix and UDP sockets in order, and no other fds (${shim} shim)`, async (context) => {
      requirePeers(context, 'libsystemd');
      const [tcp, udp] = [await freePort(), await freePort()];
      const unit = await unitWith(
        'multi',
        [sdListen!],
        `listen = "127.0.0.1:${tcp}"\nname = "http"`,
        `listen = "unix:api.sock"\nname = "api"`,
        `listen = "127.0.0.1:${udp}"\ntype = "datagram"\nname = "dns"`,
      );
      const { child, lines } = tracker.spawn({ unit, instance: 0, sockets: tracker.socket(bindUnitSockets(unit)), shim });
      expect(await withDeadline(child.exited, 10_000, 'sd-listen')).toEqual({ code: 0, signal: null });
      expect(stdoutOf(lines)).toEqual([
        'count 3',
        'fd 3 http stream-listening=1 seqpacket-listening=0 dgram=0 unix=0',
        'fd 4 api stream-listening=1 seqpacket-listening=0 dgram=0 unix=1',
        'fd 5 dns stream-listening=0 seqpacket-listening=0 dgram=1 unix=0',
        'open 0',
        'open 1',
        'open 2',
        'open 3',
        'open 4',
        'open 5',
      ]);
    });
  }
});

describe('python3-systemd', () => {
  it('listen_fds_with_names() agrees', async (context) => {
    requirePeers(context, 'python3-systemd');
    const port = await freePort();
    const unit = await unitWith('py', [PYTHON, fixturePath('python-listen.py')], `listen = "127.0.0.1:${port}"\nname = "http"`, `listen = "unix:py.sock"\nname = "api"`);
    const { child, lines } = tracker.spawn({ unit, instance: 0, sockets: tracker.socket(bindUnitSockets(unit)) });
    expect(await withDeadline(child.exited, 10_000, 'python')).toEqual({ code: 0, signal: null });
    expect(JSON.parse(stdoutOf(lines)[0] ?? '{}')).toEqual({ pid: child.pid, fds: { '3': 'http', '4': 'api' }, sockets: [true, true] });
  });
});

describe('real servers', () => {
  it('gunicorn serves HTTP from the passed socket', async (context) => {
    requirePeers(context, 'gunicorn');
    const port = await freePort();
    const unit = await unitWith('gunicorn', ['/usr/bin/gunicorn', '--chdir', path.dirname(fixturePath('wsgi_app.py')), '-w', '1', 'wsgi_app:app'], `listen = "127.0.0.1:${port}"`);
    const { child } = tracker.spawn({ unit, instance: 0, sockets: tracker.socket(bindUnitSockets(unit)) });
    // The connection waits in the backlog until the worker accepts it.
    const body = await httpGet({ host: '127.0.0.1', port }, 15_000);
    expect(readProcStat(Number(body))?.ppid).toBe(child.pid);
  });

  it('lighttpd serves with server.systemd-socket-activation', async (context) => {
    requirePeers(context, 'lighttpd');
    const port = await freePort();
    const www = path.join(tmp.dir, 'www');
    mkdirSync(www);
    writeFileSync(path.join(www, 'hello.txt'), 'hello from lighttpd');
    const conf = path.join(tmp.dir, 'lighttpd.conf');
    writeFileSync(conf, `server.document-root = ${q(www)}\nserver.port = ${port}\nserver.bind = "127.0.0.1"\nserver.systemd-socket-activation = "enable"\n`);
    const unit = await unitWith('lighttpd', ['/usr/sbin/lighttpd', '-D', '-f', conf], `listen = "127.0.0.1:${port}"`);
    const { child } = tracker.spawn({ unit, instance: 0, sockets: tracker.socket(bindUnitSockets(unit)) });
    const body = await httpGet({ host: '127.0.0.1', port }, 3_000, '/hello.txt').catch((e: Error) => `${e.message}; lighttpd said: ${child.lastLines().join('\n')}`);
    expect(body).toBe('hello from lighttpd');
  });

  it('a Node service on listen({fd: 3}) serves over IPv4, IPv6 and unix sockets', async () => {
    const v4 = await startNodeHttp(`127.0.0.1:${await freePort()}`);
    expect(await httpGet({ host: '127.0.0.1', port: Number(v4.sockets[0]!.local.split(':')[1]) })).toBe(String(v4.child.pid));

    const v6port = await freePort('::1');
    const v6 = await startNodeHttp(`[::1]:${v6port}`);
    expect(await httpGet({ host: '::1', port: v6port })).toBe(String(v6.child.pid));

    const file = path.join(tmp.dir, 'web.sock');
    const unix = await startNodeHttp(file, 'mode = "0666"');
    expect(await httpGet({ socketPath: file })).toBe(String(unix.child.pid));
  });

  it('a Node service serves on an abstract socket (python client)', async (context) => {
    requirePeers(context, 'python3');
    const name = `launcher-test-${process.pid}-${Date.now()}`;
    const { child } = await startNodeHttp(`@${name}`);
    const client = `import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect("\\0${name}")\ns.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")\nprint(b"".join(iter(lambda: s.recv(4096), b"")).decode().split("\\r\\n\\r\\n", 1)[1])`;
    const { stdout } = await execa(PYTHON, ['-c', client], { timeout: 10_000 });
    expect(stdout).toBe(String(child.pid));
  });

  it('a UDP service echoes datagrams from the passed socket', async (context) => {
    requirePeers(context, 'python3');
    const port = await freePort();
    const unit = await unitWith('echo', [PYTHON, '-u', fixturePath('udp-echo.py')], `listen = "127.0.0.1:${port}"\ntype = "datagram"`);
    const { child } = tracker.spawn({ unit, instance: 0, sockets: tracker.socket(bindUnitSockets(unit)) });
    // Sent before the service reads: the datagram waits in the socket's queue.
    expect(await udpRoundTrip('127.0.0.1', port, 'ping')).toBe(`${child.pid}:ping`);
  });
});
