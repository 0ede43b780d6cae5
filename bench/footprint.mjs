// Benchmark 2, footprint: the launcher process's own RSS with 1/100/1000 units
// (on-demand units with a socket each, so no service process runs), and with
// eager `sleep` units plus the time until all of them run; against a bare idle
// node and the PM2 daemon (idle, and holding `sleep` apps).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './lib/paths.mjs';
import { startLauncherUp } from './peers/launcher.mjs';
import { pm2, pm2DaemonPid, pm2Kill, PM2_HOME } from './peers/pm2.mjs';
import { anonKiB, pause, rssKiB, start, stopProcess, waitFor } from './lib/proc.mjs';

const { request } = await import(path.join(ROOT, 'dist/src/control/client.js'));
const SLEEP = '/bin/sleep';

/** RSS after the process settles: the max of a few samples over `ms`. */
async function settledRss(pid, ms = 1500) {
  let max = 0;
  for (let t = 0; t < ms; t += 250) {
    await pause(250);
    max = Math.max(max, rssKiB(pid));
  }
  return max;
}

/**
 * Writes `count` units, each owning an abstract unix socket and running `sleep`: eager
 * ones start at `up`; on-demand ones run no process until a connection arrives.
 */
function writeUnits(dir, count, mode) {
  const unitsDir = path.join(dir, 'units');
  mkdirSync(unitsDir, { recursive: true });
  const tag = `${process.pid}-${path.basename(dir)}`;
  for (let i = 0; i < count; i++) {
    const lines = ['[service]', `exec = ["${SLEEP}", "3600"]`, 'stop_timeout = "2s"'];
    if (mode === 'on-demand') lines.push('start = "on-demand"');
    lines.push('', '[[socket]]', `listen = "@bench-${tag}-${i}"`);
    writeFileSync(path.join(unitsDir, `u${String(i).padStart(4, '0')}.toml`), lines.join('\n') + '\n');
  }
  return unitsDir;
}

/** The launcher with `count` units of `mode`: { units, mode, rssKiB, loadedMs, allRunningMs }. */
export async function launcherFootprint(count, mode) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-fp-'));
  const unitsDir = writeUnits(dir, count, mode);
  const t0 = performance.now();
  const up = await startLauncherUp(dir, unitsDir);
  const loadedMs = performance.now() - t0;
  let allRunningMs = null;
  try {
    if (mode === 'eager') {
      await waitFor(
        async () => {
          const reply = await request(up.control, 'status', {});
          return reply.units.length === count && reply.units.every((u) => u.state === 'running');
        },
        { timeoutMs: 120_000, everyMs: 50, what: `${count} eager units running` },
      );
      allRunningMs = performance.now() - t0;
    }
    return { units: count, mode, rssKiB: await settledRss(up.pid), anonKiB: anonKiB(up.pid), loadedMs, allRunningMs };
  } finally {
    await stopProcess(up, 'SIGTERM', 60_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Base cost by module: RSS (and its anonymous part) of an idle node after importing
 * one thing, each in a fresh process: [{ what, rssKiB, anonKiB }]. The first row is
 * a bare node that imported nothing. (The bundled launcher as shipped is the
 * footprint table's "1 on-demand unit" row: its chunks run the CLI when imported.)
 */
export async function moduleCosts() {
  const rows = [
    ['bare node', null],
    ['+ yargs', import.meta.resolve('yargs')],
    ['+ execa', import.meta.resolve('execa')],
    ['+ koffi', import.meta.resolve('koffi')],
    ['+ toml', import.meta.resolve('toml')],
    ['+ the launcher, one module per file (tsc output: dist/src/entrypoint/up.js)', pathToFileURL(path.join(ROOT, 'dist/src/entrypoint/up.js')).href],
  ];
  const out = [];
  for (const [what, url] of rows) {
    const load = url === null ? '' : `await import(${JSON.stringify(url)});`;
    const proc = start(process.execPath, ['--input-type=module', '-e', `${load} console.log("up"); setInterval(() => {}, 1e9);`], { cwd: ROOT });
    await proc.waitForLine(/^up$/, 60_000);
    try {
      out.push({ what, rssKiB: await settledRss(proc.child.pid), anonKiB: anonKiB(proc.child.pid) });
    } finally {
      await stopProcess(proc);
    }
  }
  return out;
}

/** RSS of a bare idle `node -e 'setInterval(()=>{},1e9)'`. */
export async function bareNodeRss() {
  const proc = start(process.execPath, ['-e', 'setInterval(()=>{},1e9); console.log("up")']);
  await proc.waitForLine(/up/);
  try {
    return await settledRss(proc.child.pid);
  } finally {
    await stopProcess(proc);
  }
}

/** PM2 daemon RSS idle and with `apps` `sleep` processes (fork mode, interpreter none): { idleKiB, withApps, apps }. */
export async function pm2Footprint(apps) {
  await pm2Kill();
  try {
    await pm2(['ping']);
    const idleKiB = await settledRss(pm2DaemonPid());
    const eco = path.join(PM2_HOME, 'sleepers.config.cjs');
    const list = Array.from({ length: apps }, (_, i) => ({ name: `s${i}`, script: SLEEP, args: '3600', interpreter: 'none', autorestart: false }));
    writeFileSync(eco, `module.exports = ${JSON.stringify({ apps: list })};\n`);
    const t0 = performance.now();
    await pm2(['start', eco]);
    const startMs = performance.now() - t0;
    const withAppsKiB = await settledRss(pm2DaemonPid());
    return { idleKiB, withAppsKiB, apps, startMs };
  } finally {
    await pm2Kill();
  }
}
