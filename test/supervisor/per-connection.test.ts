// PerConnectionSupervisor with real sockets and real clients but fake children:
// exactly max_connections are accepted while the rest wait in the backlog, an
// exit makes room for the next, and spawn failures pause accepting with a
// doubling delay and resume by themselves.
import net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bindUnitSockets, closeSocket, type BoundSocket } from '../../src/sockets/index.js';
import type { Child, ExitStatus, SupervisorEvent } from '../../src/supervisor/contract.js';
import { PerConnectionSupervisor, type AcceptedConnection } from '../../src/supervisor/per-connection.js';
import { stopFdWatcher } from '../../src/sys/poll.js';
import { freePort } from '../helpers/ports.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { unitFrom } from '../helpers/services.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
afterAll(() => stopFdWatcher());

interface FakeChild extends Child {
  end(): void;
  peer: string;
}

async function setUp(maxConnections: number, failSpawns = 0) {
  const tmp = makeTmpDir('launcher-per-conn-');
  cleanups.push(tmp.cleanup);
  const port = await freePort();
  const unit = await unitFrom(tmp.dir, 'web', ['[service]', 'exec = ["cat"]', 'restart_delay = "100ms"', '[[socket]]', `listen = "127.0.0.1:${port}"`, 'accept = true', `max_connections = ${maxConnections}`].join('\n'));
  const sockets: BoundSocket[] = bindUnitSockets(unit);
  cleanups.push(() => sockets.forEach(closeSocket));
  const children: FakeChild[] = [];
  const logs: SupervisorEvent[] = [];
  let failures = failSpawns;
  let pid = 100_000;
  const supervisor = new PerConnectionSupervisor(unit, {
    now: () => performance.now(),
    setTimer: (ms, fn) => setTimeout(fn, ms),
    clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
    log: (e) => logs.push(e),
    sockets: () => sockets,
    spawn: (_unit, _n, connection: AcceptedConnection) => {
      if (failures > 0) {
        failures--;
        throw new Error('no such program');
      }
      let end!: (s: ExitStatus) => void;
      const exited = new Promise<ExitStatus>((resolve) => (end = resolve));
      const child: FakeChild = { pid: pid++, exited, kill: () => end({ code: null, signal: 'SIGTERM' }), lastLines: () => [], end: () => end({ code: 0, signal: null }), peer: connection.peer };
      children.push(child);
      return child;
    },
  });
  cleanups.push(() => supervisor.stop());
  const clients: net.Socket[] = [];
  cleanups.push(() => clients.forEach((c) => c.destroy()));
  const connect = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const c = net.connect(port, '127.0.0.1');
      c.on('error', () => {});
      clients.push(c);
      await new Promise((resolve) => c.once('connect', resolve));
    }
  };
  return { supervisor, children, logs, connect, clients };
}

describe('PerConnectionSupervisor', () => {
  it('accepts exactly max_connections; an exit makes room for one more', async () => {
    const { supervisor, children, connect } = await setUp(3);
    await supervisor.start();
    await connect(5); // all 5 complete their handshake in the backlog
    await waitFor(() => children.length === 3, { what: '3 connections accepted' });
    expect(supervisor.status().instances.map((i) => i.index)).toEqual([0, 1, 2]);
    expect(children[0]!.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    children[0]!.end();
    await waitFor(() => children.length === 4, { what: 'the 4th connection after an exit' });
    await waitFor(() => supervisor.status().instances.length === 3, { what: 'the exit to be noted' });
    expect(children.length).toBe(4); // still 3 live: the 5th waits
    children[1]!.end();
    await waitFor(() => children.length === 5, { what: 'the 5th connection' });
  });

  it('pauses accepting after spawn failures with a doubling delay, then serves the waiting client', async () => {
    const { supervisor, children, logs, connect } = await setUp(8, 2);
    await supervisor.start();
    await connect(3);
    await waitFor(() => children.length === 1, { what: 'a connection served after two failures' });
    const pauses = logs.filter((l) => /pausing accepts for/.test(l.message)).map((l) => /for (\d+) ms/.exec(l.message)![1]);
    expect(pauses).toEqual(['100', '200']); // each failure closed its connection; the third client was served
    await connect(1);
    await waitFor(() => children.length === 2, { what: 'the next connection served' });
    expect(logs.filter((l) => /pausing accepts for/.test(l.message))).toHaveLength(2);
  });

  it('stop ends every connection and stops accepting; start accepts again', async () => {
    const { supervisor, children, connect } = await setUp(8);
    await supervisor.start();
    await connect(2);
    await waitFor(() => children.length === 2, { what: 'two connections' });
    await supervisor.stop();
    expect(supervisor.status()).toMatchObject({ state: 'inactive', instances: [] });
    await connect(1);
    await supervisor.start();
    await waitFor(() => children.length === 3, { what: 'the waiting client after start' });
  });
});
