// The launcher as a restart peer: `launcher up` owning 127.0.0.1:PORT for one
// `web` unit (apps/service.mjs, ready by READY=1), restarted through the
// control socket — so the timing is the launcher's own round trip — with a
// few restarts through the real `launcher restart web` CLI for its wall time.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { APPS, ROOT, CLI } from '../lib/paths.mjs';
import { start, run, stopProcess, waitForHttp } from '../lib/proc.mjs';

const { request } = await import(path.join(ROOT, 'dist/src/control/client.js'));
const SERVICE = path.join(APPS, 'service.mjs');

/** Writes a units dir with one `web` unit on 127.0.0.1:`port`; returns its path. */
export function writeWebUnit(dir, port, handoff) {
  const unitsDir = path.join(dir, 'units');
  mkdirSync(unitsDir, { recursive: true });
  writeFileSync(
    path.join(unitsDir, 'web.toml'),
    [
      '[service]',
      `exec = ${JSON.stringify([process.execPath, SERVICE])}`,
      'ready = "notify"',
      `handoff = "${handoff}"`,
      '',
      '[[socket]]',
      `listen = "127.0.0.1:${port}"`,
      '',
    ].join('\n'),
  );
  return unitsDir;
}

/** Starts `launcher up` on `unitsDir` with a private control socket; resolves once it loaded its units. */
export async function startLauncherUp(dir, unitsDir) {
  const control = path.join(dir, 'ctl', 'control.sock');
  const proc = start(process.execPath, [CLI, 'up', '--units', unitsDir, '--control', control], { cwd: dir });
  await proc.waitForLine(/units? loaded/, 60_000);
  return { ...proc, control, pid: proc.child.pid };
}

/** A restart peer using handoff `overlap` or `stop-first`. */
export function launcherPeer(handoff) {
  return {
    name: `launcher-${handoff}`,
    label: `launcher (${handoff})`,
    available: async () => true,
    async start({ port, dir }) {
      const up = await startLauncherUp(dir, writeWebUnit(dir, port, handoff));
      await waitForHttp(port);
      return {
        pid: up.pid,
        /** One restart over the control socket: { ms, readyMs, drainMs }. */
        async restart() {
          const t0 = performance.now();
          const reply = await request(up.control, 'restart', { units: ['web'] }, { timeoutMs: 60_000 });
          const ms = performance.now() - t0;
          const inst = reply.units?.[0]?.report?.instances?.[0] ?? {};
          return { ms, readyMs: inst.readyMs, drainMs: inst.drainMs };
        },
        /** One restart through the CLI: { ms (wall, incl. CLI start-up), line (its own report) }. */
        async restartCli() {
          const r = await run(process.execPath, [CLI, 'restart', 'web', '--control', up.control]);
          if (r.code !== 0) throw new Error(`launcher restart exited ${r.code}: ${r.stderr}`);
          const line = r.stdout.trim().split('\n').pop();
          const m = /ready in (\d+) ms, drained in (\d+) ms/.exec(line);
          return { ms: r.ms, readyMs: m ? Number(m[1]) : NaN, drainMs: m ? Number(m[2]) : NaN, line };
        },
        stop: () => stopProcess(up, 'SIGTERM', 20_000),
      };
    },
  };
}
