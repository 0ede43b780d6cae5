// Server::Starter (Debian libserver-starter-perl) as a restart peer: start_server
// owns 127.0.0.1:PORT and passes it to the Node app; SIGHUP starts a new
// generation, waits its --interval (1 s, its only readiness signal), then
// SIGTERMs the old one. A restart counts as done when start_server logs that
// the old worker died.
import path from 'node:path';
import { APPS } from '../lib/paths.mjs';
import { start, run, stopProcess, waitFor, waitForHttp } from '../lib/proc.mjs';

/** The Server::Starter peer; unavailable (with the reason) when start_server is not installed. */
export function serverStarterPeer() {
  return {
    name: 'server-starter',
    label: 'Server::Starter (SIGHUP)',
    async available() {
      const r = await run('sh', ['-c', 'command -v start_server']).catch(() => ({ code: 1 }));
      return r.code === 0 ? true : 'start_server not found (apt-get install libserver-starter-perl)';
    },
    async start({ port }) {
      const proc = start('start_server', [`--port=127.0.0.1:${port}`, '--backlog=4096', '--interval=1', '--', process.execPath, path.join(APPS, 'service.mjs')]);
      await waitForHttp(port);
      const died = () => proc.lines.filter((l) => /old worker \d+ died/.test(l)).length;
      return {
        pid: proc.child.pid,
        /** SIGHUP, then wait until the previous generation's worker is gone: { ms }. */
        async restart() {
          const before = died();
          const t0 = performance.now();
          proc.child.kill('SIGHUP');
          await waitFor(() => died() > before, { timeoutMs: 30_000, everyMs: 5, what: 'start_server to retire the old worker' });
          return { ms: performance.now() - t0 };
        },
        stop: () => stopProcess(proc, 'SIGTERM', 15_000),
      };
    },
  };
}
