import { lstatSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { request } from '../../src/control/client.js';
import { startControlServer, type ControlHandler } from '../../src/control/server.js';
import { LauncherError } from '../../src/errors.js';
import { stopFdWatcher } from '../../src/sys/poll.js';
import { waitFor } from '../helpers/wait.js';
import { exchange, finalFor, line, startTestServer, type TestServer } from '../helpers/control-server.js';

let current: TestServer | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});
afterAll(() => stopFdWatcher());

describe('control server round trip', () => {
  it('answers status with the handler result, and ping by itself', async () => {
    current = await startTestServer(async (req) => (req.verb === 'status' ? { units: req.args.units, uid: 'ok' } : {}));
    expect(await request(current.path, 'status', { units: ['web'] })).toEqual({ units: ['web'], uid: 'ok' });
    expect(await request(current.path, 'ping')).toMatchObject({ pong: true, pid: process.pid, protocol: 1 });
  });

  it('passes the peer uid and pid to the handler', async () => {
    let seen: { uid: number; pid: number } | undefined;
    current = await startTestServer(async (_req, ctx) => {
      seen = { uid: ctx.uid, pid: ctx.pid };
      return {};
    });
    await request(current.path, 'reload');
    expect(seen).toEqual({ uid: process.geteuid!(), pid: process.pid });
  });

  it('streams progress events before the final result, in order', async () => {
    current = await startTestServer(async (_req, ctx) => {
      for (let step = 1; step <= 3; step++) {
        ctx.progress({ step });
        await new Promise((r) => setImmediate(r));
      }
      return { done: true };
    });
    const events: object[] = [];
    const result = await request(current.path, 'restart', { units: ['web'] }, { onEvent: (e) => events.push(e) });
    expect(events).toEqual([{ step: 1 }, { step: 2 }, { step: 3 }]);
    expect(result).toEqual({ done: true });
    // On the wire: events carry the request id and precede the result line.
    const raw = await exchange(current.path, line({ v: 1, id: 42, verb: 'restart', args: { units: ['web'] } }), (r) => !!finalFor(r, 42));
    expect(raw.replies.map((r) => Object.keys(r).pop())).toEqual(['event', 'event', 'event', 'result']);
    expect(raw.replies.every((r) => r.id === 42 && r.v === 1)).toBe(true);
  });

  it('answers a last request that ends at EOF without its newline (printf ... | nc -NU)', async () => {
    current = await startTestServer();
    const request = JSON.stringify({ v: 1, id: 9, verb: 'status', args: {} });
    const raw = await exchange(current.path, request, (r) => !!finalFor(r, 9), 5000, { halfClose: true });
    expect(finalFor(raw.replies, 9)).toMatchObject({ result: { verb: 'status' } });
  });

  it('turns a thrown LauncherError into an error reply with its code and context', async () => {
    current = await startTestServer(async (req) => {
      throw new LauncherError('LAUNCHER_UNKNOWN_UNIT', `no unit named "${req.verb === 'stop' ? req.args.units[0] : ''}"`, { unit: 'ghost' });
    });
    const failure = await request(current.path, 'stop', { units: ['ghost'] }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LauncherError);
    expect(failure).toMatchObject({ code: 'LAUNCHER_UNKNOWN_UNIT', message: 'no unit named "ghost"', context: { unit: 'ghost' } });
  });

  it('reports other throws as LAUNCHER_INTERNAL and logs them', async () => {
    current = await startTestServer(async () => {
      throw new TypeError('boom');
    });
    await expect(request(current.path, 'reload')).rejects.toMatchObject({ code: 'LAUNCHER_INTERNAL', message: 'boom' });
    expect(current.logs.some((l) => l.level === 'error' && l.message.includes('boom'))).toBe(true);
  });

  it('answers 50 concurrent clients, each its own answer', async () => {
    current = await startTestServer(async (req) => {
      await new Promise((r) => setTimeout(r, 5));
      return { units: req.verb === 'status' ? req.args.units : [] };
    });
    const path = current.path;
    const names = Array.from({ length: 50 }, (_, i) => `unit${i}`);
    const results = await Promise.all(names.map((name) => request(path, 'status', { units: [name] })));
    expect(results).toEqual(names.map((name) => ({ units: [name] })));
  });

  it('handles requests on one connection in order, one at a time', async () => {
    let running = 0;
    let maxRunning = 0;
    current = await startTestServer(async (req) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, req.verb === 'status' ? 30 : 1));
      running--;
      return { verb: req.verb };
    });
    const lines = [line({ v: 1, id: 1, verb: 'status' }), line({ v: 1, id: 2, verb: 'reload' }), line({ v: 1, id: 3, verb: 'ping' })].join('');
    const raw = await exchange(current.path, lines, (r) => r.length === 3);
    expect(raw.replies.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(maxRunning).toBe(1);
  });

  it('still answers a client that half-closes after sending (nc -N, socat)', async () => {
    current = await startTestServer(async () => {
      await new Promise((r) => setTimeout(r, 50));
      return { late: true };
    });
    const net = await import('node:net');
    const socket = net.connect(current.path);
    socket.end(line({ v: 1, id: 1, verb: 'reload' }));
    let text = '';
    socket.on('data', (c) => (text += c.toString()));
    await new Promise((r) => socket.on('close', r));
    expect(JSON.parse(text)).toEqual({ v: 1, id: 1, result: { late: true } });
  });
});

describe('a client that disconnects mid-operation', () => {
  it('does not stop the operation; its signal aborts; the server keeps serving', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let completed = false;
    let aborted = false;
    let started = false;
    const handler: ControlHandler<object> = async (req, ctx) => {
      if (req.verb !== 'restart') return {};
      started = true;
      ctx.signal.addEventListener('abort', () => (aborted = true));
      ctx.progress({ step: 'waiting' });
      await gate;
      ctx.progress({ step: 'after the client left' }); // dropped silently
      completed = true;
      return { done: true };
    };
    current = await startTestServer(handler);
    await exchange(current.path, line({ v: 1, id: 1, verb: 'restart', args: { units: ['web'] } }), (r) => r.length === 1);
    await waitFor(() => started, { what: 'handler start' });
    await waitFor(() => aborted, { what: 'the abort signal' });
    expect(completed).toBe(false);
    release();
    await waitFor(() => completed, { what: 'the operation to complete' });
    expect(await request(current.path, 'ping')).toMatchObject({ pong: true });
  });
});

describe('socket file lifecycle', () => {
  it('makes the folder 0700 and the socket 0600, repairing a loose existing folder', async () => {
    current = await startTestServer();
    expect(lstatSync(path.dirname(current.path)).mode & 0o777).toBe(0o700);
    expect(lstatSync(current.path).mode & 0o777).toBe(0o600);
    expect(lstatSync(current.path).isSocket()).toBe(true);
    const { chmodSync } = await import('node:fs');
    await current.server.close();
    chmodSync(path.dirname(current.path), 0o777);
    const again = await startControlServer({ path: current.path, handler: async () => ({}), log: () => {} });
    expect(lstatSync(path.dirname(current.path)).mode & 0o777).toBe(0o700);
    await again.close();
  });

  it('refuses a second server on a live path with LAUNCHER_ALREADY_RUNNING', async () => {
    current = await startTestServer();
    await expect(startControlServer({ path: current.path, handler: async () => ({}), log: () => {} })).rejects.toMatchObject({
      code: 'LAUNCHER_ALREADY_RUNNING',
    });
    expect(await request(current.path, 'ping')).toMatchObject({ pong: true }); // the first is untouched
  });

  it('replaces a stale socket file, and close() unlinks it', async () => {
    current = await startTestServer();
    const file = current.path;
    await current.server.close();
    // A stale socket: bound but nobody listening (what a killed launcher leaves).
    const { socket, bind, SOCK_STREAM, SOCK_CLOEXEC } = await import('../../src/sys/socket.js');
    const { close } = await import('../../src/sys/libc.js');
    const fd = socket(1, SOCK_STREAM | SOCK_CLOEXEC);
    bind(fd, { family: 'unix', path: file });
    close(fd);
    expect(existsSync(file)).toBe(true);
    await expect(request(file, 'ping')).rejects.toMatchObject({ code: 'LAUNCHER_UNREACHABLE' });
    const fresh = await startControlServer({ path: file, handler: async () => ({}), log: () => {} });
    expect(await request(file, 'ping')).toMatchObject({ pong: true });
    await fresh.close();
    expect(existsSync(file)).toBe(false);
  });

  it('refuses to delete a path that is not a socket', async () => {
    current = await startTestServer();
    await current.server.close();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(current.path, 'not a socket');
    await expect(startControlServer({ path: current.path, handler: async () => ({}), log: () => {} })).rejects.toMatchObject({
      code: 'LAUNCHER_BIND',
    });
    expect(existsSync(current.path)).toBe(true);
  });

  it('close() ends open connections and lets the running request answer first', async () => {
    let started = false;
    current = await startTestServer(async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 50));
      return { finished: true };
    });
    const pending = exchange(current.path, line({ v: 1, id: 1, verb: 'reload' }));
    await waitFor(() => started, { what: 'the request to reach the handler' });
    await current.server.close({ graceMs: 2000 });
    const raw = await pending;
    expect(raw.closedByServer).toBe(true);
    expect(finalFor(raw.replies, 1)).toEqual({ v: 1, id: 1, result: { finished: true } });
    expect(existsSync(current.path)).toBe(false);
  });
});
