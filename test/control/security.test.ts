import { chmodSync, lstatSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { request } from '../../src/control/client.js';
import { stopFdWatcher } from '../../src/sys/poll.js';
import { waitFor } from '../helpers/wait.js';
import { startTestServer, type TestServer } from '../helpers/control-server.js';

let current: TestServer | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});
afterAll(() => stopFdWatcher());

// A client that needs nothing from node_modules, so an unprivileged uid can run it.
const clientScript = `
import net from 'node:net';
function once(file) {
  return new Promise((resolve) => {
    const socket = net.connect(file);
    let text = '';
    socket.on('connect', () => socket.write(JSON.stringify({ v: 1, id: 1, verb: 'status', args: {} }) + '\\n'));
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', (error) => resolve({ clientError: error.code, text }));
    socket.on('close', () => resolve(text ? JSON.parse(text) : {}));
  });
}
// Several tries: the refusal must arrive whatever the timing of the request write.
const replies = [];
for (let i = 0; i < 5; i++) replies.push(await once(process.argv[2]));
console.log(JSON.stringify(replies));
`;

const isRoot = process.geteuid?.() === 0;

describe('control socket permissions', () => {
  it.skipIf(!isRoot)('refuses uid 65534 even through a 0666 socket in a 0777 folder, and logs it', async () => {
    let handled = 0;
    current = await startTestServer(async () => {
      handled++;
      return {};
    });
    const folder = path.dirname(current.path);
    expect(lstatSync(folder).mode & 0o777).toBe(0o700);
    expect(lstatSync(current.path).mode & 0o777).toBe(0o600);
    // Open every door the file system has, so only SO_PEERCRED stands in the way.
    chmodSync(current.dir, 0o755);
    chmodSync(folder, 0o777);
    chmodSync(current.path, 0o666);
    const script = path.join(current.dir, 'client.mjs');
    writeFileSync(script, clientScript, { mode: 0o644 });

    const { stdout } = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, script, current.path], {
      timeout: 10_000,
    });
    const replies = JSON.parse(stdout) as Record<string, unknown>[];
    expect(replies).toHaveLength(5);
    for (const reply of replies) {
      expect(reply).toMatchObject({ v: 1, id: null, error: { code: 'LAUNCHER_CONTROL_DENIED', context: { uid: 65534 } } });
    }
    expect(handled).toBe(0);
    await waitFor(() => current!.logs.find((l) => l.level === 'warn' && /refused .* uid 65534/.test(l.message)), { what: 'the refusal in the log' });
    // The owner is still served.
    expect(await request(current.path, 'status')).toEqual({});
    expect(handled).toBe(1);
  });
});
