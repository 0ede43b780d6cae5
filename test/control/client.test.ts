import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { callVerb, request } from '../../src/control/client.js';
import { exitCodeFor, LauncherError } from '../../src/errors.js';
import { stopFdWatcher } from '../../src/sys/poll.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { startTestServer, type TestServer } from '../helpers/control-server.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => stopFdWatcher());

async function server(handler?: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const started = await startTestServer(handler);
  cleanups.push(started.cleanup);
  return started;
}

/** A plain net.Server that answers each connection with `reply` (to play a misbehaving launcher). */
async function fakeLauncher(reply: (socket: net.Socket) => void): Promise<string> {
  const tmp = makeTmpDir('launcher-control-fake-');
  const file = path.join(tmp.dir, 'control.sock');
  const fake = net.createServer(reply);
  await new Promise<void>((resolve) => fake.listen(file, resolve));
  cleanups.push(tmp.cleanup, () => new Promise((r) => fake.close(r)));
  return file;
}

describe('control client', () => {
  it('reports LAUNCHER_UNREACHABLE (exit 3) when no socket file exists', async () => {
    const tmp = makeTmpDir();
    cleanups.push(tmp.cleanup);
    const file = path.join(tmp.dir, 'nobody.sock');
    const failure = (await request(file, 'status').catch((e: unknown) => e)) as LauncherError;
    expect(failure).toBeInstanceOf(LauncherError);
    expect(failure.code).toBe('LAUNCHER_UNREACHABLE');
    expect(failure.message).toBe(`no launcher is listening on ${file}; start one with \`launcher up\``);
    expect(exitCodeFor(failure.code)).toBe(3);
  });

  it('refuses a malformed request locally, without connecting', async () => {
    const tmp = makeTmpDir();
    cleanups.push(tmp.cleanup);
    // No server: a connection attempt would say UNREACHABLE, so PROTOCOL proves nothing was sent.
    await expect(request(path.join(tmp.dir, 'x.sock'), 'stop', { units: ['../etc'] })).rejects.toMatchObject({
      code: 'LAUNCHER_CONTROL_PROTOCOL',
    });
    await expect(request(path.join(tmp.dir, 'x.sock'), 'dance')).rejects.toMatchObject({ code: 'LAUNCHER_CONTROL_PROTOCOL' });
  });

  it('times out with LAUNCHER_CONTROL_TIMEOUT when no final reply comes', async () => {
    const started = await server(() => new Promise<object>(() => {}));
    await expect(request(started.path, 'reload', {}, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'LAUNCHER_CONTROL_TIMEOUT' });
  });

  it('reports a launcher that hangs up before answering as LAUNCHER_UNREACHABLE', async () => {
    const file = await fakeLauncher((socket) => socket.once('data', () => socket.destroy()));
    await expect(request(file, 'status')).rejects.toMatchObject({ code: 'LAUNCHER_UNREACHABLE', message: /closed the connection/ });
  });

  it('ignores replies for other ids and stops at the final one', async () => {
    const file = await fakeLauncher((socket) =>
      socket.once('data', () => {
        socket.write('{"v":1,"id":9,"result":{"not":"mine"}}\n{"v":1,"id":1,"event":{"n":1}}\n');
        socket.write('{"v":1,"id":1,"result":{"mine":true}}\n{"v":1,"id":1,"result":{"late":true}}\n');
      }),
    );
    const events: object[] = [];
    expect(await request(file, 'status', {}, { onEvent: (e) => events.push(e) })).toEqual({ mine: true });
    expect(events).toEqual([{ n: 1 }]);
  });

  it('reports a reply of another protocol version as LAUNCHER_CONTROL_PROTOCOL', async () => {
    const file = await fakeLauncher((socket) => socket.once('data', () => socket.write('{"v":2,"id":1,"result":{}}\n')));
    await expect(request(file, 'status')).rejects.toMatchObject({ code: 'LAUNCHER_CONTROL_PROTOCOL' });
  });

  it('carries code, message and context of an error reply', async () => {
    const started = await server(async () => {
      throw new LauncherError('LAUNCHER_RESTART_FAILED', 'web: the new child exited with status 1; the old one keeps serving', {
        unit: 'web', status: 1,
      });
    });
    const failure = (await request(started.path, 'restart', { units: ['web'] }).catch((e: unknown) => e)) as LauncherError;
    expect(failure).toBeInstanceOf(LauncherError);
    expect([failure.code, failure.context]).toEqual(['LAUNCHER_RESTART_FAILED', { unit: 'web', status: 1 }]);
    expect(exitCodeFor(failure.code)).toBe(1);
  });

  it('callVerb checks the result and each event against the verb before the caller sees them', async () => {
    const good = await server(async (_req, ctx) => {
      ctx.progress({ unit: 'web', message: 'reloaded' });
      return { summary: ['web: restarted'] };
    });
    const events: object[] = [];
    expect(await callVerb(good.path, 'reload', {}, { onEvent: (e) => events.push(e) })).toEqual({ summary: ['web: restarted'] });
    expect(events).toEqual([{ unit: 'web', message: 'reloaded' }]);
    const bad = await server(async () => ({ summary: 'web: restarted' }));
    await expect(callVerb(bad.path, 'reload', {})).rejects.toMatchObject({ code: 'LAUNCHER_CONTROL_PROTOCOL', context: { key: 'result.summary' } });
  });
});
