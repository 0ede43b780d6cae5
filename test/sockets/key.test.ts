// socketKey: the identity a reload uses to keep an open socket.
import { describe, expect, it } from 'vitest';
import { socketKey } from '../../src/sockets/index.js';
import { SOCKET_DEFAULTS, parseListen, type SocketSpec } from '../../src/units/index.js';

function spec(listenText: string, extra: Partial<SocketSpec> = {}): SocketSpec {
  return { ...SOCKET_DEFAULTS, listenText, listen: parseListen(listenText, '/srv'), name: 'web', ...extra };
}

describe('socketKey', () => {
  it('is equal for the same address written differently and for another fd name', () => {
    expect(socketKey(spec('localhost:80'))).toBe(socketKey(spec('127.0.0.1:80', { name: 'other' })));
    expect(socketKey(spec('unix:app.sock'))).toBe(socketKey(spec('/srv/app.sock')));
    expect(socketKey(spec('[0:0::1]:80'))).toBe(socketKey(spec('[::1]:80')));
  });

  it('differs for another address, type or any option', () => {
    const base = socketKey(spec('127.0.0.1:80'));
    for (const other of [
      spec('127.0.0.1:81'),
      spec('80'),
      spec('127.0.0.1:80', { type: 'datagram' }),
      spec('127.0.0.1:80', { backlog: 10 }),
      spec('127.0.0.1:80', { reusePort: true }),
      spec('127.0.0.1:80', { noDelay: true }),
      spec('127.0.0.1:80', { keepAlive: true }),
      spec('127.0.0.1:80', { nonBlocking: true }),
    ]) {
      expect(socketKey(other)).not.toBe(base);
    }
    expect(socketKey(spec('/a.sock', { mode: 0o600 }))).not.toBe(socketKey(spec('/a.sock', { mode: 0o660 })));
    expect(socketKey(spec('/a.sock', { owner: 'root' }))).not.toBe(socketKey(spec('/a.sock')));
  });
});
