// bindSocket / bindUnitSockets / closeSocket against the real kernel: every address
// form, the options, and the failures users meet (port in use, stale or live unix files).
import { existsSync, lstatSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { thrownBy } from '../helpers/errors.js';
import { InheritedFds, bindSocket, bindUnitSockets, closeSocket } from '../../src/sockets/index.js';
import { FD_CLOEXEC, O_NONBLOCK, close, getFdFlags, getStatusFlags } from '../../src/sys/libc.js';
import { isFdOpen } from '../../src/sys/fds.js';
import { IPPROTO_IPV6, IPPROTO_TCP, TCP_NODELAY, IPV6_V6ONLY, SOCK_DGRAM, SOCK_CLOEXEC, SOCK_SEQPACKET, SOCK_STREAM, SOL_SOCKET, SO_ACCEPTCONN, SO_KEEPALIVE, SO_REUSEPORT, SO_TYPE, connect, getsockoptInt, socket } from '../../src/sys/socket.js';
import { AF_INET, AF_UNIX } from '../../src/sys/sockaddr.js';
import { loadUnitFile, type Unit } from '../../src/units/index.js';
import { Tracker, q, unitFrom } from '../helpers/services.js';
import { freePort } from '../helpers/ports.js';
import { makeTmpDir } from '../helpers/tmp.js';

let tmp: { dir: string; cleanup: () => void };
const tracker = new Tracker();
beforeEach(() => {
  tmp = makeTmpDir('launcher-bind-');
});
afterEach(async () => {
  await tracker.cleanup();
  tmp.cleanup();
});

/** A unit named `name` whose [[socket]] tables are `sockets` (TOML bodies). */
function unitWith(name: string, ...sockets: string[]): Promise<Unit> {
  return unitFrom(tmp.dir, name, `[service]\nexec = ["/bin/true"]\n` + sockets.map((s) => `[[socket]]\n${s}\n`).join(''));
}

function connects(options: net.NetConnectOpts): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(options);
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

describe('inet', () => {
  it('binds 127.0.0.1:PORT listening, CLOEXEC, blocking, and queues connections without accepting', async () => {
    const port = await freePort();
    const unit = await unitWith('web', `listen = "127.0.0.1:${port}"\nname = "http"\nbacklog = 64`);
    const s = tracker.socket(bindSocket('web', unit.sockets[0]!));
    expect(s.local).toBe(`127.0.0.1:${port}`);
    expect(s.unit).toBe('web');
    expect(getsockoptInt(s.fd, SOL_SOCKET, SO_ACCEPTCONN)).toBe(1);
    expect(getFdFlags(s.fd) & FD_CLOEXEC).toBe(FD_CLOEXEC);
    expect(getStatusFlags(s.fd) & O_NONBLOCK).toBe(0);
    // Nobody accepts, yet the kernel completes the handshake from the backlog.
    expect(await connects({ host: '127.0.0.1', port })).toBe(true);
  });

  it('refuses a port in use with LAUNCHER_BIND naming unit, socket and address', async () => {
    const port = await freePort();
    const unit = await unitWith('web', `listen = "127.0.0.1:${port}"\nname = "http"`);
    tracker.socket(bindSocket('web', unit.sockets[0]!));
    const error = thrownBy(() => bindSocket('web', unit.sockets[0]!));
    expect(error.code).toBe('LAUNCHER_BIND');
    expect(error.message).toBe(`web: socket "http" 127.0.0.1:${port}: address already in use`);
    expect(error.context).toMatchObject({ unit: 'web', socket: 'http', address: `127.0.0.1:${port}`, syscall: 'bind', errnoName: 'EADDRINUSE' });
  });

  it('binds [::1] (IPv6 only by address)', async () => {
    const port = await freePort('::1');
    const unit = await unitWith('v6', `listen = "[::1]:${port}"`);
    const s = tracker.socket(bindSocket('v6', unit.sockets[0]!));
    expect(s.local).toBe(`[::1]:${port}`);
    expect(await connects({ host: '::1', port })).toBe(true);
  });

  it('a bare port is dual-stack [::]; ipv6_only refuses IPv4 clients', async () => {
    const port = await freePort();
    const dual = tracker.socket(bindSocket('any', (await unitWith('any', `listen = "${port}"`)).sockets[0]!));
    expect(dual.local).toBe(`[::]:${port}`);
    expect(getsockoptInt(dual.fd, IPPROTO_IPV6, IPV6_V6ONLY)).toBe(0);
    expect(await connects({ host: '127.0.0.1', port })).toBe(true);
    expect(await connects({ host: '::1', port })).toBe(true);
    closeSocket(dual);

    const v6only = tracker.socket(bindSocket('six', (await unitWith('six', `listen = "[::]:${port}"\nipv6_only = true`)).sockets[0]!));
    expect(getsockoptInt(v6only.fd, IPPROTO_IPV6, IPV6_V6ONLY)).toBe(1);
    expect(await connects({ host: '::1', port })).toBe(true);
    expect(await connects({ host: '127.0.0.1', port })).toBe(false);
  });

  it('reuse_port lets two sockets share a port; keep_alive, no_delay and non_blocking are set', async () => {
    const port = await freePort();
    const unit = await unitWith('rp', `listen = "127.0.0.1:${port}"\nreuse_port = true\nkeep_alive = true\nno_delay = true\nnon_blocking = true`);
    const a = tracker.socket(bindSocket('rp', unit.sockets[0]!));
    const b = tracker.socket(bindSocket('rp', unit.sockets[0]!));
    for (const s of [a, b]) {
      expect(getsockoptInt(s.fd, SOL_SOCKET, SO_REUSEPORT)).toBe(1);
      expect(getsockoptInt(s.fd, SOL_SOCKET, SO_KEEPALIVE)).toBe(1);
      expect(getsockoptInt(s.fd, IPPROTO_TCP, TCP_NODELAY)).toBe(1);
      expect(getStatusFlags(s.fd) & O_NONBLOCK).toBe(O_NONBLOCK);
    }
  });

  it('binds UDP as a datagram socket that is not listening', async () => {
    const port = await freePort();
    const s = tracker.socket(bindSocket('dns', (await unitWith('dns', `listen = "127.0.0.1:${port}"\ntype = "datagram"`)).sockets[0]!));
    expect(getsockoptInt(s.fd, SOL_SOCKET, SO_TYPE)).toBe(SOCK_DGRAM);
    expect(s.local).toBe(`127.0.0.1:${port}`);
  });
});

describe('unix and abstract', () => {
  it('creates the file with its mode, and closeSocket removes it', async () => {
    const file = path.join(tmp.dir, 'app.sock');
    const s = tracker.socket(bindSocket('app', (await unitWith('app', `listen = ${q(file)}\nmode = "0600"`)).sockets[0]!));
    expect(s.local).toBe(file);
    expect(lstatSync(file).isSocket()).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await connects({ path: file })).toBe(true);
    closeSocket(s);
    expect(existsSync(file)).toBe(false);
  });

  it('replaces a stale socket file and refuses a live one', async () => {
    const file = path.join(tmp.dir, 'app.sock');
    const unit = await unitWith('app', `listen = ${q(file)}\nname = "api"`);
    // A stale file: left behind by a socket that is closed without unlinking.
    const stale = bindSocket('app', unit.sockets[0]!);
    close(stale.fd);
    expect(lstatSync(file).isSocket()).toBe(true);
    const fresh = tracker.socket(bindSocket('app', unit.sockets[0]!));
    expect(await connects({ path: file })).toBe(true);

    const live = thrownBy(() => bindSocket('app', unit.sockets[0]!));
    expect(live.code).toBe('LAUNCHER_BIND');
    expect(live.message).toBe(`app: socket "api" ${file}: address in use by a running process`);
    expect(lstatSync(file).ino).toBe(fresh.createdFile?.ino);

  });

  it('never deletes a regular file at the path', async () => {
    const plain = path.join(tmp.dir, 'plain.sock');
    writeFileSync(plain, 'keep me');
    const unit = await unitWith('p', `listen = ${q(plain)}`);
    const error = thrownBy(() => bindSocket('p', unit.sockets[0]!));
    expect(error.message).toMatch(/not a socket/);
    expect(lstatSync(plain).isFile()).toBe(true);
  });

  it('closeSocket leaves a newer socket file at the same path alone', async () => {
    const file = path.join(tmp.dir, 'app.sock');
    const unit = await unitWith('app', `listen = ${q(file)}`);
    const old = bindSocket('app', unit.sockets[0]!);
    // Someone moves our file away and binds their own at the path.
    renameSync(file, `${file}.moved`);
    const newer = tracker.socket(bindSocket('app', unit.sockets[0]!));
    closeSocket(old);
    expect(lstatSync(file).ino).toBe(newer.createdFile?.ino);
    expect(await connects({ path: file })).toBe(true);
  });

  it('fails clearly when the folder is missing or not writable, leaving nothing behind', async () => {
    // `check` refuses a missing folder; this is the folder vanishing between loading and binding.
    const gone = path.join(tmp.dir, 'gone');
    mkdirSync(gone);
    const missing = path.join(gone, 'app.sock');
    const unit = await unitWith('app', `listen = ${q(missing)}`);
    rmSync(gone, { recursive: true });
    const error = thrownBy(() => bindSocket('app', unit.sockets[0]!));
    expect(error.code).toBe('LAUNCHER_BIND');
    expect(error.context.errnoName).toBe('ENOENT');
    expect(error.message).toMatch(/does not exist; the launcher does not create it/);

    // /proc refuses new files even to root.
    const unwritable = await unitWith('ro', `listen = "/proc/launcher-test.sock"`);
    const denied = thrownBy(() => bindSocket('ro', unwritable.sockets[0]!));
    expect(denied.code).toBe('LAUNCHER_BIND');
    expect(denied.context).toMatchObject({ unit: 'ro', address: '/proc/launcher-test.sock', syscall: 'bind' });
  });

  it('binds abstract stream and seqpacket sockets', async () => {
    const name = `launcher-test-${process.pid}-${Date.now()}`;
    const unit = await unitWith('abs', `listen = "@${name}"`, `listen = "@${name}-sp"\ntype = "seqpacket"`);
    const [stream, seq] = tracker.socket(bindUnitSockets(unit));
    expect(stream!.local).toBe(`@${name}`);
    expect(getsockoptInt(seq!.fd, SOL_SOCKET, SO_TYPE)).toBe(SOCK_SEQPACKET);
    expect(getsockoptInt(seq!.fd, SOL_SOCKET, SO_ACCEPTCONN)).toBe(1);
    // Node 20's net cannot reach abstract names: connect with libc.
    for (const [s, type] of [[stream!, SOCK_STREAM], [seq!, SOCK_SEQPACKET]] as const) {
      const client = socket(AF_UNIX, type | SOCK_CLOEXEC);
      try {
        expect(connect(client, { family: 'abstract', name: s.local.slice(1) })).toBe(0);
      } finally {
        close(client);
      }
    }
  });
});

describe('the example unit', () => {
  it('units/web.toml loads: 127.0.0.1:8080 named "http", ready = "notify"', async () => {
    const unit = await loadUnitFile(path.resolve('units/web.toml'));
    expect(unit.sockets.map((s) => [s.listenText, s.name])).toEqual([['127.0.0.1:8080', 'http']]);
    expect(unit.service.ready).toBe('notify');
  });
});

describe('bindUnitSockets', () => {
  it('is all or nothing: a later failure closes the sockets already bound', async () => {
    const [free, busy] = [await freePort(), await freePort()];
    const blocker = net.createServer().listen(busy, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const file = path.join(tmp.dir, 'first.sock');
      const unit = await unitWith('web', `listen = ${q(file)}`, `listen = "127.0.0.1:${free}"`, `listen = "127.0.0.1:${busy}"\nname = "third"`);
      const error = thrownBy(() => bindUnitSockets(unit));
      expect(error.context).toMatchObject({ unit: 'web', socket: 'third', errnoName: 'EADDRINUSE' });
      expect(existsSync(file)).toBe(false);
      // The port bound first is free again.
      const again = tracker.socket(bindSocket('web', unit.sockets[1]!));
      expect(again.local).toBe(`127.0.0.1:${free}`);
    } finally {
      blocker.close();
    }
  });
});

describe('fd: inherited sockets', () => {
  it('takes the named fd, checks its type, and errors when absent', async () => {
    const fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC);
    const inherited = new InheritedFds([{ fd, name: 'metrics' }]);
    const unit = await unitWith('m', `listen = "fd:metrics"\ntype = "datagram"`);
    const s = tracker.socket(bindSocket('m', unit.sockets[0]!, { inherited }));
    expect(s.fd).toBe(fd);

    const absent = thrownBy(() => bindSocket('m', unit.sockets[0]!, { inherited }));
    expect(absent.code).toBe('LAUNCHER_BIND');
    expect(absent.message).toMatch(/no inherited socket named "metrics"/);

    const wrongFd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC);
    const wrong = thrownBy(() => bindSocket('m', unit.sockets[0]!, { inherited: new InheritedFds([{ fd: wrongFd, name: 'metrics' }]) }));
    expect(wrong.message).toMatch(/inherited socket is seqpacket, the unit says datagram/);
    expect(isFdOpen(wrongFd)).toBe(false);
  });

  it('applies keep_alive and no_delay to an inherited TCP socket', async () => {
    const fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC);
    const unit = await unitWith('w', `listen = "fd:web"\nkeep_alive = true\nno_delay = true`);
    const s = tracker.socket(bindSocket('w', unit.sockets[0]!, { inherited: new InheritedFds([{ fd, name: 'web' }]) }));
    expect(getsockoptInt(s.fd, SOL_SOCKET, SO_KEEPALIVE)).toBe(1);
    expect(getsockoptInt(s.fd, IPPROTO_TCP, TCP_NODELAY)).toBe(1);
  });
});
