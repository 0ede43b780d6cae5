// PM2 as a restart peer: cluster mode (`pm2 start app -i 2`), the app binds
// PORT through Node's cluster master, and `pm2 reload web` swaps the workers
// one by one. PM2 is not a project dependency: it is installed into the
// git-ignored bench/.work on first use, with its own PM2_HOME there.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { APPS, WORK } from '../lib/paths.mjs';
import { run, waitForHttp } from '../lib/proc.mjs';

const PM2_BIN = path.join(WORK, 'node_modules/.bin/pm2');
/** PM2's state folder for the bench (its daemon socket, pid file, logs). */
export const PM2_HOME = path.join(WORK, 'pm2-home');

/**
 * Makes sure PM2 is installed under bench/.work (npm install --prefix) unless
 * `install` is false. Resolves true, or a reason string when it is unavailable.
 */
export async function ensurePm2({ install = true } = {}) {
  if (existsSync(PM2_BIN)) return true;
  if (!install) return 'pm2 not installed in bench/.work (run without --no-install to install it)';
  mkdirSync(WORK, { recursive: true });
  console.log('installing pm2 into bench/.work (npm install --prefix bench/.work pm2) ...');
  const r = await run('npm', ['install', '--prefix', WORK, '--no-audit', '--no-fund', 'pm2'], { timeoutMs: 300_000 }).catch((e) => ({ code: 1, stderr: String(e) }));
  return r.code === 0 && existsSync(PM2_BIN) ? true : `npm install pm2 failed: ${r.stderr.trim().split('\n').pop()}`;
}

/** Runs `pm2 ARGS` against the bench's PM2_HOME; rejects on a non-zero exit. */
export async function pm2(args, env = {}) {
  const r = await run(PM2_BIN, args, { env: { ...process.env, PM2_HOME, ...env }, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`pm2 ${args.join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
  return r;
}

/** The PM2 daemon's pid (from PM2_HOME/pm2.pid), or NaN when it is not running. */
export function pm2DaemonPid() {
  try {
    return Number(readFileSync(path.join(PM2_HOME, 'pm2.pid'), 'utf8').trim());
  } catch {
    return NaN;
  }
}

/** Deletes every app and kills the daemon; leaves no PM2 process behind. */
export async function pm2Kill() {
  await pm2(['kill']).catch(() => undefined);
  rmSync(PM2_HOME, { recursive: true, force: true });
}

/** The PM2 cluster-mode peer with `instances` workers. */
export function pm2Peer({ install = true, instances = 2 } = {}) {
  return {
    name: 'pm2',
    label: `PM2 reload (cluster, ${instances} workers)`,
    available: () => ensurePm2({ install }),
    async start({ port }) {
      await pm2Kill();
      const app = path.join(APPS, 'service.mjs');
      await pm2(['start', app, '--name', 'web', '-i', String(instances)], { PORT: String(port) });
      await waitForHttp(port);
      return {
        get pid() {
          return pm2DaemonPid();
        },
        /** `pm2 reload web` wall time (includes the pm2 CLI's own start-up): { ms }. */
        async restart() {
          const r = await pm2(['reload', 'web']);
          return { ms: r.ms };
        },
        stop: () => pm2Kill(),
      };
    },
  };
}
