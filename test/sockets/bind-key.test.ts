// bindKey (src/sockets/key.ts): what makes two socket specs "the same bound socket", so
// a reload (and crash recovery's takeover) keeps the open socket and its waiting clients.
// Only what is fixed at bind time counts: the address however it is written, the type,
// reuse_port and ipv6_only. Options retuneSocket changes on the open socket (backlog,
// no_delay, keep_alive, non_blocking, mode, owner, group) and the fd name do not; unlike
// socketKey (test/sockets/key.test.ts, which this file leaves alone), they keep the key.
import { describe, expect, it } from 'vitest';
import { bindKey, socketKey } from '../../src/sockets/index.js';
import { SOCKET_DEFAULTS, parseListen, type SocketSpec } from '../../src/units/index.js';

function spec(listenText: string, extra: Partial<SocketSpec> = {}, unitDir = '/srv'): SocketSpec {
  return { ...SOCKET_DEFAULTS, listenText, listen: parseListen(listenText, unitDir), name: 'web', ...extra };
}

describe('bindKey', () => {
  it('is equal for one address written differently, under another fd name', () => {
    expect(bindKey(spec('localhost:80'))).toBe(bindKey(spec('127.0.0.1:80', { name: 'other' })));
    expect(bindKey(spec('[0:0::1]:80'))).toBe(bindKey(spec('[::1]:80')));
    expect(bindKey(spec('unix:app.sock'))).toBe(bindKey(spec('/srv/app.sock')));
    expect(bindKey(spec('unix:app.sock', {}, '/srv'))).toBe(bindKey(spec('unix:../srv/app.sock', {}, '/etc')));
  });

  it('is equal when only options the open socket can take change (and socketKey differs)', () => {
    const base = spec('/run/app.sock');
    for (const changed of [
      { backlog: 16 },
      { noDelay: true },
      { keepAlive: true },
      { nonBlocking: true },
      { mode: 0o600 },
      { owner: 'www-data' },
      { group: 'www-data' },
    ] satisfies Partial<SocketSpec>[]) {
      const other = spec('/run/app.sock', changed);
      expect(bindKey(other), JSON.stringify(changed)).toBe(bindKey(base));
      expect(socketKey(other), JSON.stringify(changed)).not.toBe(socketKey(base));
    }
  });

  it('differs for another address, family, type, reuse_port or ipv6_only', () => {
    const base = bindKey(spec('127.0.0.1:80'));
    const others = [
      spec('127.0.0.1:81'),
      spec('127.0.0.2:80'),
      spec('80'), // every address, not 127.0.0.1
      spec('[::1]:80'),
      spec('127.0.0.1:80', { type: 'datagram' }),
      spec('127.0.0.1:80', { reusePort: true }),
      spec('127.0.0.1:80', { ipv6Only: true }),
    ].map(bindKey);
    expect(others).not.toContain(base);
    expect(new Set(others).size).toBe(others.length);
  });

  it('tells a path, an abstract name and an inherited fd of the same name apart', () => {
    const keys = [spec('/app'), spec('@app'), spec('@/app'), spec('fd:app'), spec('unix:app', {}, '/')].map(bindKey);
    expect(keys[0]).toBe(keys[4]);
    expect(new Set(keys.slice(0, 4)).size).toBe(4);
    expect(bindKey(spec('unix:app.sock', {}, '/srv'))).not.toBe(bindKey(spec('unix:app.sock', {}, '/etc')));
  });
});
