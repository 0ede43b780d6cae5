// sockets/inherited: LISTEN_FDS parsing with sd_listen_fds semantics (fake env), the
// take/closeUnused bookkeeping on real fds, and a real hand-over from systemd-socket-activate.
import net from 'node:net';
import { openSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import { InheritedFds, parseListenEnv, takeInheritedFds } from '../../src/sockets/inherited.js';
import { close } from '../../src/sys/libc.js';
import { listOpenFds } from '../../src/sys/fds.js';
import { buildForFixtures, fixturePath } from '../helpers/build-fixtures.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { requirePeers } from '../helpers/peers.js';
import { ok } from '../helpers/sys.js';

describe('parseListenEnv', () => {
  const pid = 4242;
  const parse = (env: Record<string, string>) => parseListenEnv(env, pid);

  it('names fds 3.. from LISTEN_FDNAMES, in order, names may repeat', () => {
    expect(parse({ LISTEN_PID: '4242', LISTEN_FDS: '3', LISTEN_FDNAMES: 'web:web:admin' })).toEqual({
      fds: [
        { fd: 3, name: 'web' },
        { fd: 4, name: 'web' },
        { fd: 5, name: 'admin' },
      ],
      warnings: [],
    });
  });

  it('defaults every name to "unknown" when LISTEN_FDNAMES is absent or empty', () => {
    const expected = { fds: [{ fd: 3, name: 'unknown' }, { fd: 4, name: 'unknown' }], warnings: [] };
    expect(parse({ LISTEN_PID: '4242', LISTEN_FDS: '2' })).toEqual(expected);
    expect(parse({ LISTEN_PID: '4242', LISTEN_FDS: '2', LISTEN_FDNAMES: '' })).toEqual(expected);
  });

  it('keeps an empty name between colons as systemd does', () => {
    expect(parse({ LISTEN_PID: '4242', LISTEN_FDS: '2', LISTEN_FDNAMES: ':b' }).fds).toEqual([
      { fd: 3, name: '' },
      { fd: 4, name: 'b' },
    ]);
  });

  it('takes nothing, silently, when the fds were meant for another process or none were passed', () => {
    expect(parse({ LISTEN_PID: '4243', LISTEN_FDS: '1' })).toEqual({ fds: [], warnings: [] });
    expect(parse({})).toEqual({ fds: [], warnings: [] });
    expect(parse({ LISTEN_PID: '4242' })).toEqual({ fds: [], warnings: [] });
  });

  it('takes LISTEN_PID=1 only when we are pid 1', () => {
    expect(parseListenEnv({ LISTEN_PID: '1', LISTEN_FDS: '1' }, 1).fds).toEqual([{ fd: 3, name: 'unknown' }]);
    expect(parseListenEnv({ LISTEN_PID: '1', LISTEN_FDS: '1' }, 77).fds).toEqual([]);
  });

  it.each([
    [{ LISTEN_PID: 'abc', LISTEN_FDS: '1' }, /invalid LISTEN_PID="abc", ignoring/],
    [{ LISTEN_PID: '0', LISTEN_FDS: '1' }, /invalid LISTEN_PID="0", ignoring/],
    [{ LISTEN_PID: '4242', LISTEN_FDS: 'two' }, /invalid LISTEN_FDS="two", ignoring/],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '-1' }, /invalid LISTEN_FDS="-1", ignoring/],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '0' }, /invalid LISTEN_FDS="0", ignoring/],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '1x' }, /invalid LISTEN_FDS="1x", ignoring/],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '2', LISTEN_FDNAMES: 'a' }, /1 names for LISTEN_FDS=2, ignoring/],
    [{ LISTEN_FDS: '2' }, /LISTEN_FDS=2 without LISTEN_PID, ignoring/],
  ])('ignores %j with a warning', (env, warning) => {
    const result = parse(env as Record<string, string>);
    expect(result.fds).toEqual([]);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(warning);
  });
});

describe('InheritedFds', () => {
  const opened: number[] = [];
  afterEach(() => {
    for (const fd of opened.splice(0)) close(fd);
  });

  it('hands out each fd once, repeated names in fd order', () => {
    const inherited = new InheritedFds([
      { fd: 5, name: 'web' },
      { fd: 3, name: 'web' },
      { fd: 4, name: 'admin' },
    ]);
    expect(inherited.names()).toEqual(['web', 'admin', 'web']);
    expect(inherited.take('web')).toBe(3);
    expect(inherited.take('web')).toBe(5);
    expect(inherited.take('web')).toBeUndefined();
    expect(inherited.take('nope')).toBeUndefined();
    expect(inherited.names()).toEqual(['admin']);
  });

  it('closeUnused closes only the untaken fds, warning once for each', () => {
    const a = openSync('/dev/null', 'r');
    const b = openSync('/dev/null', 'r');
    opened.push(a);
    const inherited = new InheritedFds([
      { fd: a, name: 'used' },
      { fd: b, name: 'spare' },
    ]);
    expect(inherited.take('used')).toBe(a);
    const warnings: string[] = [];
    inherited.closeUnused((line) => warnings.push(line));
    expect(warnings).toEqual([`inherited socket fd ${b} (name "spare") is used by no unit, closing it`]);
    expect(ok(listOpenFds())).not.toContain(b);
    expect(ok(listOpenFds())).toContain(a);
    expect(inherited.names()).toEqual([]);
  });

  it('takeInheritedFds clears LISTEN_* from the env it is given even when they are not ours', () => {
    const env: NodeJS.ProcessEnv = { LISTEN_PID: '1', LISTEN_FDS: '2', LISTEN_FDNAMES: 'a:b', KEEP: 'x' };
    const inherited = takeInheritedFds(env, 999_999);
    expect(inherited.names()).toEqual([]);
    expect(env).toEqual({ KEEP: 'x' });
  });
});

describe('takeInheritedFds under systemd-socket-activate', () => {
  let build: { dir: string; cleanup: () => void };
  let activator: ResultPromise | undefined;
  beforeAll(() => {
    build = buildForFixtures(['src/sockets/inherited.ts']);
  });
  afterAll(() => build.cleanup());
  afterEach(async () => {
    activator?.kill('SIGKILL');
    await activator?.catch(() => undefined);
    activator = undefined;
  });

  /** Connects (which makes systemd-socket-activate exec the fixture) and reads its report. */
  async function fetchReport(port: number): Promise<Record<string, unknown>> {
    const text = await waitFor(
      () =>
        new Promise<string>((resolve, reject) => {
          const socket = net.connect(port, '127.0.0.1');
          let data = '';
          socket.on('data', (chunk) => (data += chunk));
          socket.on('end', () => resolve(data));
          socket.on('error', reject);
        }),
      { what: 'fixture report', timeoutMs: 10_000 },
    );
    return JSON.parse(text) as Record<string, unknown>;
  }

  it('takes the named socket, marks it CLOEXEC, clears LISTEN_*, and serves on it', async (context) => {
    requirePeers(context, 'systemd');
    const port = await freePort();
    activator = execa(
      'systemd-socket-activate',
      ['-l', `127.0.0.1:${port}`, '--fdname=web', process.execPath, fixturePath('inherited-fixture.mjs'), build.dir],
      { reject: false },
    );
    const report = await fetchReport(port);
    expect(report.listenEnvBefore).toEqual({ LISTEN_PID: String(report.pid), LISTEN_FDS: '1', LISTEN_FDNAMES: 'web' });
    expect(report.listenEnvAfter).toEqual([]);
    expect(report.namesBefore).toEqual(['web']);
    expect(report.web).toBe(3);
    expect(report.webCloexec).toBe(true);
    expect(report.again).toBeNull();
    expect(report.namesAfter).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.closed).toEqual([]);
    const result = await activator;
    expect(result.exitCode).toBe(0);
  });

  it('closes an inherited socket no one took, warning with its fd and name', async (context) => {
    requirePeers(context, 'systemd');
    const [port, sparePort] = [await freePort(), await freePort()];
    activator = execa(
      'systemd-socket-activate',
      ['-l', `127.0.0.1:${port}`, '-l', `127.0.0.1:${sparePort}`, '--fdname=web:spare',
        process.execPath, fixturePath('inherited-fixture.mjs'), build.dir],
      { reject: false },
    );
    const report = await fetchReport(port);
    expect(report.namesBefore).toEqual(['web', 'spare']);
    expect(report.web).toBe(3);
    expect(report.closed).toEqual(['inherited socket fd 4 (name "spare") is used by no unit, closing it']);
  });
});
