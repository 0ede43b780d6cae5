// End to end: the launcher itself socket-activated (systemd-socket-activate passes it
// LISTEN_FDS), handing the inherited socket on to a libsystemd service by `fd:NAME`;
// and SIGUSR1 to that launcher opens no inspector port.
import { execa } from 'execa';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, cli, makeUnitDir } from '../helpers/launcher.js';
import { freePort } from '../helpers/ports.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupWrapped, startWrapped } from '../helpers/wrapped.js';
import { buildLibsystemdClient, requirePeers } from '../helpers/peers.js';

let sdEcho = '';
let build = { cleanup: () => {} };
beforeAll(async () => {
  const client = await buildLibsystemdClient(path.join(FIXTURES, 'e2e/pid1/sd-echo.c'));
  [sdEcho, build] = [client.path, client];
});
afterAll(() => build.cleanup());

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupWrapped();
  cleanups.splice(0).forEach((c) => c());
});

/** Connects to 127.0.0.1:port and resolves with everything the server sends before it closes. */
function readAll(port: number, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer on port ${port} within ${timeoutMs} ms`)));
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

/** Local ports of the TCP sockets in LISTEN state that process `pid` holds an fd of. */
function listeningPortsOf(pid: number): number[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`)
      .map((fd) => {
        try {
          return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        } catch {
          return undefined;
        }
      })
      .filter((inode): inode is string => inode !== undefined),
  );
  return listeningTcp().filter((s) => inodes.has(s.inode)).map((s) => s.port).sort((a, b) => a - b);
}

/** Every TCP socket in LISTEN state (v4 and v6) of this network namespace. */
function listeningTcp(): { port: number; inode: string }[] {
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      // fields: sl local_address rem_address st ... inode (10th); st 0A is LISTEN
      .filter((f) => f.length > 9 && f[3] === '0A')
      .map((f) => ({ port: parseInt(f[1]!.split(':').at(-1)!, 16), inode: f[9]! })),
  );
}

describe('a socket-activated launcher (systemd-socket-activate)', () => {
  it('hands its inherited socket to a libsystemd service by fd:NAME, with the service own LISTEN_PID; USR1 opens no inspector', async (context) => {
    requirePeers(context, 'systemd', 'libsystemd');
    const port = await freePort();
    const { dir, unitsDir, cleanup } = makeUnitDir({
      web: `[service]\nexec = [${JSON.stringify(sdEcho)}]\n[[socket]]\nlisten = "fd:web"\n`,
    });
    cleanups.push(cleanup);
    const control = path.join(dir, 'ctl', 'control.sock');
    const activator = ['systemd-socket-activate', '-l', `127.0.0.1:${port}`, '--fdname=web'];
    // systemd-socket-activate execs the launcher only on the first connection: do not wait for any line yet.
    const launcher = await startWrapped(activator, ['up', '--units', unitsDir, '--control', control], {
      cwd: dir,
      launcherIsChild: false,
      wait: null,
    });
    await waitFor(() => listeningTcp().some((s) => s.port === port), { what: `systemd-socket-activate listening on ${port}` });

    // The first connection waits in the activator's backlog until the launcher's service accepts it.
    const reply = await readAll(port);
    const served = await launcher.waitForLine(/^web\[\d+\] serving/);
    const servicePid = Number(/\[(\d+)\]/.exec(served)?.[1]);
    expect(reply).toBe(`fds=1 name=web pid=${servicePid} listen_pid=${servicePid}\n`);
    expect(launcher.lines.join('\n')).toMatch(/1 unit loaded/);
    expect(launcher.lines.join('\n')).not.toMatch(/inherited socket .* is used by no unit/);
    // The launcher (which is the exec'd activator process) holds the same socket, and no other listener.
    expect(listeningPortsOf(launcher.pid)).toEqual([port]);

    launcher.signal('SIGUSR1');
    await launcher.waitForLine(/SIGUSR1 received, ignoring/);
    // A control round trip gives Node's inspector, had it been started, ample time to listen.
    const status = await cli(['status', '--control', control]);
    expect(status.exitCode).toBe(0);
    expect(listeningPortsOf(launcher.pid)).toEqual([port]);
    expect(listeningTcp().some((s) => s.port === 9229)).toBe(false);
    expect(launcher.lines.join('\n')).not.toMatch(/Debugger listening/);
    // Still serving after the signal, from the same service.
    expect(await readAll(port)).toBe(reply);

    launcher.signal('SIGTERM');
    expect(await launcher.exited).toBe(0);
  });
});
