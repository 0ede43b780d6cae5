// spawn-env: the environment a service starts with (buildServiceEnv) and the variables
// its exec shim sets to the service's own pid (pidVariables). The launcher's own
// protocol variables (LISTEN_*, NOTIFY_SOCKET, WATCHDOG_*, REMOTE_*, LAUNCHER_STORED_FDS)
// never leak into a child, a unit's env can neither set nor override them, LISTEN_FDS and
// LISTEN_FDNAMES come only with fds, NOTIFY_SOCKET only when given, WATCHDOG_USEC only
// with a watchdog. baseEnv is always passed explicitly: process.env is never touched.
import { describe, expect, it } from 'vitest';
import type { BoundSocket } from '../../src/sockets/bound-socket.js';
import { buildServiceEnv, pidVariables, type ServiceEnvOptions } from '../../src/supervisor/spawn-env.js';
import { SOCKET_DEFAULTS, parseListen } from '../../src/units/index.js';
import { makeUnit } from '../helpers/fake-env.js';

/** A bound socket as far as the env is concerned: only its fd name matters. */
function sock(name: string, fd = 3): BoundSocket {
  const spec = { ...SOCKET_DEFAULTS, listenText: '8080', listen: parseListen('8080', '/units'), name };
  return { fd, unit: 'web', spec, key: name, local: '0.0.0.0:8080' };
}

function env(opts: Partial<ServiceEnvOptions> = {}): Record<string, string> {
  return buildServiceEnv({ unit: makeUnit(), instance: 0, sockets: [], baseEnv: {}, ...opts });
}

/** The launcher's own environment when systemd started it with sockets, a notify socket and a watchdog. */
const LAUNCHER_ENV = {
  PATH: '/usr/bin:/bin',
  LANG: 'C.UTF-8',
  LISTEN_PID: '1',
  LISTEN_FDS: '2',
  LISTEN_FDNAMES: 'a:b',
  NOTIFY_SOCKET: '/run/systemd/notify',
  WATCHDOG_USEC: '30000000',
  WATCHDOG_PID: '1',
  REMOTE_ADDR: '10.0.0.1',
  REMOTE_PORT: '4242',
  LAUNCHER_STORED_FDS: '7',
  LAUNCHER_UNIT: 'launcher',
  LAUNCHER_INSTANCE: '9',
};

describe('buildServiceEnv', () => {
  it("keeps the launcher's plain variables and drops every protocol variable of its own", () => {
    const base = { ...LAUNCHER_ENV, UNSET: undefined };
    expect(env({ baseEnv: base })).toEqual({ PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', LAUNCHER_UNIT: 'web', LAUNCHER_INSTANCE: '0' });
    expect(base).toEqual({ ...LAUNCHER_ENV, UNSET: undefined }); // not modified
  });

  it("drops the protocol from the unit's env, and the launcher's own values win over it", () => {
    const unit = makeUnit({
      env: { APP: 'yes', LISTEN_FDS: '5', LISTEN_PID: '1', NOTIFY_SOCKET: '/tmp/evil', WATCHDOG_USEC: '1', REMOTE_ADDR: 'x', LAUNCHER_UNIT: 'other', LAUNCHER_INSTANCE: '7' },
    });
    expect(env({ unit, instance: 3 })).toEqual({ APP: 'yes', LAUNCHER_UNIT: 'web', LAUNCHER_INSTANCE: '3' });
    expect(env({ unit, sockets: [sock('http')], notifySocket: '/run/launcher/web.notify' })).toMatchObject({
      LISTEN_FDS: '1',
      LISTEN_FDNAMES: 'http',
      NOTIFY_SOCKET: '/run/launcher/web.notify',
    });
  });

  it('layers base, then the user identity, then the unit env', () => {
    const identityEnv = { HOME: '/home/app', USER: 'app' };
    const baseEnv = { HOME: '/root', USER: 'root', TERM: 'dumb' };
    expect(env({ baseEnv, identityEnv })).toMatchObject({ HOME: '/home/app', USER: 'app', TERM: 'dumb' });
    expect(env({ baseEnv, identityEnv, unit: makeUnit({ env: { HOME: '/srv' } }) })).toMatchObject({ HOME: '/srv', USER: 'app' });
  });

  it('sets LISTEN_FDS and LISTEN_FDNAMES for sockets then extra fds, in order, and only when there are some', () => {
    expect(Object.keys(env()).filter((k) => k.startsWith('LISTEN_'))).toEqual([]);
    expect(env({ sockets: [sock('http', 3), sock('admin', 4)], extraFds: [{ fd: 10, name: 'stored' }] })).toMatchObject({
      LISTEN_FDS: '3',
      LISTEN_FDNAMES: 'http:admin:stored',
    });
    expect(env({ extraFds: [{ fd: 3, name: 'connection' }] })).toMatchObject({ LISTEN_FDS: '1', LISTEN_FDNAMES: 'connection' });
    // LISTEN_PID is the shim's: it alone knows the child's pid.
    expect(env({ sockets: [sock('http')] })).not.toHaveProperty('LISTEN_PID');
  });

  it('sets NOTIFY_SOCKET only when given, and WATCHDOG_USEC (in µs) only with a watchdog', () => {
    expect(env()).not.toHaveProperty('NOTIFY_SOCKET');
    expect(env()).not.toHaveProperty('WATCHDOG_USEC');
    expect(env({ notifySocket: '@launcher-notify-web' }).NOTIFY_SOCKET).toBe('@launcher-notify-web');
    const watched = env({ unit: makeUnit({ watchdogMs: 1500 }) });
    expect(watched.WATCHDOG_USEC).toBe('1500000');
    expect(watched).not.toHaveProperty('WATCHDOG_PID');
  });

  it('adds extraEnv (REMOTE_ADDR/REMOTE_PORT for a connection) after the base is filtered', () => {
    const got = env({ baseEnv: LAUNCHER_ENV, extraEnv: { REMOTE_ADDR: '127.0.0.1', REMOTE_PORT: '5555' } });
    expect(got.REMOTE_ADDR).toBe('127.0.0.1');
    expect(got.REMOTE_PORT).toBe('5555');
  });
});

describe('pidVariables', () => {
  it('names LISTEN_PID when any fd is passed and WATCHDOG_PID with a watchdog, in that order', () => {
    expect(pidVariables(makeUnit(), [])).toEqual([]);
    expect(pidVariables(makeUnit(), [sock('http')])).toEqual(['LISTEN_PID']);
    expect(pidVariables(makeUnit(), [], [{ fd: 3, name: 'connection' }])).toEqual(['LISTEN_PID']);
    expect(pidVariables(makeUnit({ watchdogMs: 1000 }), [])).toEqual(['WATCHDOG_PID']);
    expect(pidVariables(makeUnit({ watchdogMs: 1000 }), [sock('http')])).toEqual(['LISTEN_PID', 'WATCHDOG_PID']);
  });
});
