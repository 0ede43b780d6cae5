// Valid unit files load to exactly the Unit they describe: every address form, string exec, env_file, every key.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadUnitDir, SERVICE_DEFAULTS, SOCKET_DEFAULTS, type Unit } from '../../src/units/index.js';

const VALID = fileURLToPath(new URL('../fixtures/units/valid', import.meta.url));
let units: Map<string, Unit>;

beforeAll(async () => {
  const list = await loadUnitDir(VALID);
  units = new Map(list.map((unit) => [unit.name, unit]));
  expect(list.map((u) => u.name)).toEqual(['addresses', 'full', 'minimal', 'per-connection', 'string-exec', 'worker@1']);
});

const unit = (name: string): Unit => units.get(name) as Unit;

describe('valid unit files', () => {
  test('a minimal unit gets every default', () => {
    const minimal = unit('minimal');
    expect(minimal.file).toBe(path.join(VALID, 'minimal.toml'));
    expect(minimal.description).toBeUndefined();
    expect(minimal.sockets).toEqual([]);
    expect(minimal.service).toEqual({ ...SERVICE_DEFAULTS, exec: ['sh'], execPath: expect.stringMatching(/\/sh$/), workdir: VALID, env: {} });
    expect(Object.isFrozen(minimal.service)).toBe(true);
  });

  test('every address form', () => {
    const sockets = unit('addresses').sockets;
    expect(sockets.map((s) => [s.listen, s.type, s.name])).toEqual([
      [{ kind: 'inet', host: null, port: 9301, family: 'any' }, 'stream', 'addresses'],
      [{ kind: 'inet', host: '127.0.0.1', port: 9302, family: 4 }, 'stream', 'addresses'],
      [{ kind: 'inet', host: '127.0.0.1', port: 9302, family: 4 }, 'datagram', 'addresses'],
      [{ kind: 'inet', host: '127.0.0.1', port: 9303, family: 4 }, 'stream', 'addresses'],
      [{ kind: 'inet', host: '::1', port: 9304, family: 6 }, 'stream', 'addresses'],
      [{ kind: 'unix', path: '/tmp/launcher-fixture-addresses.sock' }, 'stream', 'addresses'],
      [{ kind: 'unix', path: path.join(VALID, 'run/app.sock') }, 'stream', 'addresses'],
      [{ kind: 'abstract', name: 'launcher-fixture-abstract' }, 'seqpacket', 'addresses'],
      [{ kind: 'fd', name: 'inherited' }, 'stream', 'addresses'],
    ]);
    expect(sockets[3]?.listenText).toBe('localhost:9303');
    expect(sockets[0]).toMatchObject({ ...SOCKET_DEFAULTS, listenText: '9301' });
  });

  test('a string exec is split like a shell, without one', () => {
    expect(unit('string-exec').service.exec).toEqual(['sh', '-c', 'echo "$0 $1"', 'first word', 'second "quoted"']);
  });

  test('the unit env PATH finds exec[0]', () => {
    expect(unit('worker@1').service.execPath).toBe('/bin/sh');
  });

  test('every key set', () => {
    const full = unit('full');
    expect(full.description).toBe('Every key, non-default');
    expect(full.service).toEqual({
      exec: ['sh', '-c', 'exec sleep 1000', 'full'],
      execPath: expect.stringMatching(/\/sh$/),
      workdir: VALID,
      env: { FROM_FILE: 'yes', QUOTED: 'two words', SINGLE: 'a # not a comment', SHARED: 'from env', NODE_ENV: 'production' },
      envFile: path.join(VALID, 'full.env'),
      user: 'root',
      group: '0',
      ready: 'notify',
      readyTimeoutMs: 90_000,
      readyAfterMs: 2000,
      restart: 'always',
      restartDelayMs: 250,
      restartDelayMaxMs: 3_600_000,
      startLimitBurst: 7,
      startLimitIntervalMs: 60_000,
      stopSignal: 'SIGINT',
      stopTimeoutMs: 2500,
      handoff: 'stop-first',
      instances: 3,
      start: 'on-demand',
      watchdogMs: 5000,
      logLines: 200,
      fdStoreMax: 16,
      stdio: 'pipe',
    });
    expect(full.sockets).toEqual([
      {
        listenText: '[::]:9300', listen: { kind: 'inet', host: '::', port: 9300, family: 6 }, name: 'http', type: 'stream',
        backlog: 128, reusePort: true, ipv6Only: true, noDelay: true, keepAlive: true, nonBlocking: true, accept: false, maxConnections: 64,
      },
      {
        listenText: 'unix:run/full.sock', listen: { kind: 'unix', path: path.join(VALID, 'run/full.sock') }, name: 'admin',
        type: 'stream', ...{ backlog: 4096, reusePort: false, ipv6Only: false, noDelay: false, keepAlive: false, nonBlocking: false, accept: false, maxConnections: 64 },
        mode: 0o660, owner: 'root', group: 'root',
      },
    ]);
  });

  test('a process per connection: accept, max_connections, stdio = "socket"', () => {
    const perConnection = unit('per-connection');
    expect(perConnection.service.stdio).toBe('socket');
    expect(perConnection.sockets.map((s) => [s.type, s.accept, s.maxConnections])).toEqual([
      ['stream', true, 8],
      ['seqpacket', true, 64],
    ]);
  });
});
