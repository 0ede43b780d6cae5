// End to end: `start = "on-demand"` through the real CLI — no service process
// until traffic arrives, then the very connection or datagram that woke the
// unit is answered by the child it started; a service that ends cleanly goes
// back to waiting.
import dgram from 'node:dgram';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { waitFor, withDeadline } from '../helpers/wait.js';
import { childrenOf, cleanupLaunchers, FIXTURES, httpGet, makeUnitDir, startLauncher, statusJson, waitForState, type RunningLauncher } from '../helpers/launcher.js';
import { requirePeers } from '../helpers/peers.js';

const FLEET = path.join(FIXTURES, 'e2e/fleet');
const PYTHON = '/usr/bin/python3';

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  cleanups.splice(0).forEach((c) => c());
});

async function launch(units: Record<string, string>): Promise<RunningLauncher> {
  const tmp = makeUnitDir(units);
  cleanups.push(tmp.cleanup);
  return startLauncher(tmp.unitsDir);
}

/** A UDP port on 127.0.0.1 that was free a moment ago. */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** Sends ONE datagram and resolves with the first reply (no resend: the first datagram must be answered). */
async function udpExchange(port: number, text: string, timeoutMs = 15_000): Promise<string> {
  const socket = dgram.createSocket('udp4');
  try {
    const reply = new Promise<string>((resolve) => socket.once('message', (msg) => resolve(msg.toString())));
    await new Promise<void>((resolve, reject) => socket.send(text, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    return await withDeadline(reply, timeoutMs, `a UDP reply on port ${port}`);
  } finally {
    socket.close();
  }
}

/** Asserts the launcher is waiting on `unit` with no service process at all. */
async function expectWaitingWithoutChild(launcher: RunningLauncher, unit: string): Promise<void> {
  const status = (await statusJson(launcher)).units.find((u) => u.name === unit)!;
  expect(status.state).toBe('waiting');
  expect(status.pids).toEqual([]);
  expect(childrenOf(launcher.pid)).toEqual([]);
}

describe('start = "on-demand"', () => {
  it('runs nothing before the first connection, which the new child then answers', async () => {
    const port = await freePort();
    const launcher = await launch({
      web: `[service]
exec = ["node", ${JSON.stringify(path.join(FLEET, 'fleet-service.mjs'))}]
ready = "notify"
start = "on-demand"

[[socket]]
listen = "127.0.0.1:${port}"
`,
    });
    await launcher.waitForLine(/waiting for the first connection/);
    await expectWaitingWithoutChild(launcher, 'web');

    const first = await httpGet(port, '/', '127.0.0.1', 15_000);
    expect(first.status).toBe(200);
    const pid = Number(first.body.trim());
    expect(childrenOf(launcher.pid)).toEqual([pid]);
    const web = (await statusJson(launcher)).units[0]!;
    expect(web.state).toBe('running');
    expect(web.pids).toEqual([pid]);
    expect(launcher.lines.some((l) => l.includes('activity on its socket, starting'))).toBe(true);
  });

  it('goes back to waiting when the service ends cleanly, and the next connection starts a new child', async () => {
    const port = await freePort();
    const launcher = await launch({
      web: `[service]
exec = ["node", ${JSON.stringify(path.join(FLEET, 'fleet-service.mjs'))}]
ready = "notify"
start = "on-demand"
env = { EXIT_AFTER = "1" }

[[socket]]
listen = "127.0.0.1:${port}"
`,
    });
    const first = await httpGet(port, '/', '127.0.0.1', 15_000);
    const firstPid = Number(first.body.trim());
    // It exits 0 after one answer: not a failure, so the unit waits again with no child.
    await waitFor(async () => (await statusJson(launcher)).units[0]!.state === 'waiting' && childrenOf(launcher.pid).length === 0, {
      timeoutMs: 15_000,
      what: 'the unit waiting again with no child',
    });
    await expectWaitingWithoutChild(launcher, 'web');

    const second = await httpGet(port, '/', '127.0.0.1', 15_000);
    expect(second.status).toBe(200);
    const secondPid = Number(second.body.trim());
    expect(secondPid).not.toBe(firstPid);
    expect(secondPid).toBeGreaterThan(0);
  });

  it('starts a UDP service on its first datagram and that datagram is answered', async (context) => {
    requirePeers(context, 'python3');
    const port = await freeUdpPort();
    const launcher = await launch({
      echo: `[service]
exec = [${JSON.stringify(PYTHON)}, ${JSON.stringify(path.join(FLEET, 'udp-echo.py'))}]
start = "on-demand"

[[socket]]
listen = "127.0.0.1:${port}"
type = "datagram"
`,
    });
    await launcher.waitForLine(/waiting for the first connection/);
    await expectWaitingWithoutChild(launcher, 'echo');

    const reply = await udpExchange(port, 'first datagram');
    const match = /^echo (\d+): first datagram$/.exec(reply);
    expect(match, reply).not.toBeNull();
    const pid = Number(match![1]);
    expect(childrenOf(launcher.pid)).toEqual([pid]);
    // Ready once it has stayed up ready_after (1 s by default).
    const echo = await waitForState(launcher, 'echo', 'running');
    expect(echo.pids).toEqual([pid]);
    // The same child answers the next one.
    expect(await udpExchange(port, 'second')).toBe(`echo ${pid}: second`);
  });
});
