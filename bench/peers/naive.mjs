// The naive peer: a service that binds its own port, restarted by killing it
// and spawning it again. While no process holds the port, connections are
// refused — this is the baseline the other peers exist to beat.
import path from 'node:path';
import { APPS } from '../lib/paths.mjs';
import { start, stopProcess } from '../lib/proc.mjs';

/** The kill-and-respawn peer (always available: it needs only node). */
export function naivePeer() {
  return {
    name: 'naive',
    label: 'naive kill + respawn',
    available: async () => true,
    async start({ port }) {
      const spawnApp = async () => {
        const proc = start(process.execPath, [path.join(APPS, 'service.mjs')], { env: { ...process.env, PORT: String(port) } });
        await proc.waitForLine(/listening on/, 20_000);
        return proc;
      };
      let current = await spawnApp();
      return {
        get pid() {
          return current.child.pid;
        },
        /** SIGTERM, wait for exit, spawn again, wait until it listens: { ms }. */
        async restart() {
          const t0 = performance.now();
          await stopProcess(current, 'SIGTERM', 10_000);
          current = await spawnApp();
          return { ms: performance.now() - t0 };
        },
        stop: () => stopProcess(current, 'SIGTERM', 10_000),
      };
    },
  };
}
