// The launcher holds sockets between children: connections wait in the backlog and
// the next child accepts them, the launcher accepts nothing, and what a child changed
// on the shared socket (backlog, O_NONBLOCK) is re-applied before the next start.
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bindUnitSockets } from '../../src/sockets/index.js';
import { O_NONBLOCK, getStatusFlags } from '../../src/sys/libc.js';
import { Tracker, fixturePath, httpGet, stdoutOf, unitFrom } from '../helpers/services.js';
import { freePort } from '../helpers/ports.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor, withDeadline } from '../helpers/wait.js';

let tmp: { dir: string; cleanup: () => void };
const tracker = new Tracker();
beforeEach(() => {
  tmp = makeTmpDir('launcher-backlog-');
});
afterEach(async () => {
  await tracker.cleanup();
  tmp.cleanup();
});

/** Recv-Q (connections waiting to be accepted) and Send-Q (the backlog) of the TCP listener on `port`. */
async function listenQueue(port: number): Promise<{ waiting: number; backlog: number }> {
  const { stdout } = await execa('ss', ['-ltnH', `sport = :${port}`]);
  const [, recvQ, sendQ] = stdout.trim().split(/\s+/);
  return { waiting: Number(recvQ), backlog: Number(sendQ) };
}

async function webUnit(port: number, extra = '') {
  return unitFrom(tmp.dir, 'web', `[service]\nexec = ["node", ${JSON.stringify(fixturePath('http-fd3.mjs'))}]\n[[socket]]\nlisten = "127.0.0.1:${port}"\n${extra}\n`);
}

/** `count` GETs, `concurrency` at a time, each on a fresh connection; resolves with every body. */
async function load(port: number, count: number, concurrency: number): Promise<string[]> {
  const bodies: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      bodies.push(await httpGet({ host: '127.0.0.1', port }));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return bodies;
}

describe('backlog between children', () => {
  it('connections made while no child runs wait and are served by the next child', async () => {
    const port = await freePort();
    const unit = await webUnit(port);
    const sockets = tracker.socket(bindUnitSockets(unit));
    const early = Array.from({ length: 30 }, () => httpGet({ host: '127.0.0.1', port }, 15_000));
    await waitFor(async () => (await listenQueue(port)).waiting === 30, { what: '30 connections queued' });
    const { child } = tracker.spawn({ unit, instance: 0, sockets });
    const bodies = await withDeadline(Promise.all(early), 15_000, 'queued requests');
    expect(new Set(bodies)).toEqual(new Set([String(child.pid)]));
  });

  it('under load every response comes from the child (the launcher accepts nothing)', async () => {
    const port = await freePort();
    const unit = await webUnit(port);
    const { child, lines } = tracker.spawn({ unit, instance: 0, sockets: tracker.socket(bindUnitSockets(unit)) });
    await waitFor(() => stdoutOf(lines).length > 0, { what: 'the service to listen' });
    const bodies = await withDeadline(load(port, 300, 20), 20_000, '300 requests');
    expect(bodies).toHaveLength(300);
    expect(new Set(bodies)).toEqual(new Set([String(child.pid)]));
  });
});

describe('options re-applied before every start', () => {
  it('restores the backlog a Node child lowered and clears the O_NONBLOCK it set', async () => {
    const port = await freePort();
    const unit = await webUnit(port, 'backlog = 1000');
    const sockets = tracker.socket(bindUnitSockets(unit));
    expect((await listenQueue(port)).backlog).toBe(1000);

    const node = tracker.spawn({ unit, instance: 0, sockets });
    await waitFor(() => stdoutOf(node.lines).length > 0, { what: 'the service to listen' });
    // Node's listen({fd}) calls listen(fd, 511) and makes the shared open file non-blocking.
    expect((await listenQueue(port)).backlog).toBe(511);
    node.child.kill('SIGTERM');
    await withDeadline(node.child.exited, 5000, 'Node service to stop');
    expect(getStatusFlags(sockets[0]!.fd) & O_NONBLOCK).toBe(O_NONBLOCK);

    const probeUnit = await unitFrom(tmp.dir, 'probe', `[service]\nexec = ["/bin/sh", "-c", "grep ^flags /proc/self/fdinfo/3"]\n[[socket]]\nlisten = "127.0.0.1:${port}"\nbacklog = 1000\n`);
    const probe = tracker.spawn({ unit: probeUnit, instance: 0, sockets });
    expect((await listenQueue(port)).backlog).toBe(1000);
    await withDeadline(probe.child.exited, 5000, 'probe');
    const flags = parseInt(stdoutOf(probe.lines)[0]?.split(/\s+/)[1] ?? 'NaN', 8);
    expect(flags & O_NONBLOCK).toBe(0);
  });

  it('hands the socket non-blocking when non_blocking = true', async () => {
    const port = await freePort();
    const unit = await unitFrom(tmp.dir, 'nb', `[service]\nexec = ["/bin/sh", "-c", "grep ^flags /proc/self/fdinfo/3"]\n[[socket]]\nlisten = "127.0.0.1:${port}"\nnon_blocking = true\n`);
    const { child, lines } = tracker.spawn({ unit, instance: 0, sockets: tracker.socket(bindUnitSockets(unit)) });
    await withDeadline(child.exited, 5000, 'probe');
    const flags = parseInt(stdoutOf(lines)[0]?.split(/\s+/)[1] ?? 'NaN', 8);
    expect(flags & O_NONBLOCK).toBe(O_NONBLOCK);
  });
});
