// Benchmark 3, CLI latency: wall time of `launcher status` against a running
// launcher and `node -e 0` (interleaved), and `pm2 list` against a running daemon
// (median of N).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from './lib/paths.mjs';
import { startLauncherUp, writeWebUnit } from './peers/launcher.mjs';
import { pm2, pm2Kill } from './peers/pm2.mjs';
import { freePort, run, stopProcess, waitForHttp } from './lib/proc.mjs';
import { median } from './lib/stats.mjs';

const summarise = (samples) => ({ median: median(samples), min: Math.min(...samples), max: Math.max(...samples), n: samples.length });

/**
 * Runs each of `fns` (name → () => run result) `n` times, interleaved (a b a b ...) so
 * that load drifting on a shared machine affects every command alike; one warm-up run
 * each is not counted. Resolves name → { median, min, max, n } of wall ms.
 */
async function timedInterleaved(n, fns) {
  const samples = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
  for (const fn of Object.values(fns)) await fn(); // warm the page cache; not counted
  for (let i = 0; i < n; i++) {
    for (const [name, fn] of Object.entries(fns)) {
      const r = await fn();
      if (r.code !== 0) throw new Error(`${name}: exit ${r.code}: ${r.stderr}`);
      samples[name].push(r.ms);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarise(v)]));
}

async function timed(n, fn) {
  return (await timedInterleaved(n, { only: fn })).only;
}

/** { nodeE0, status, pm2List? } each { median, min, max, n } in ms. `withPm2` adds `pm2 list`. */
export async function cliLatency(n, { withPm2 }) {
  const out = {};
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-cli-'));
  const port = await freePort();
  const up = await startLauncherUp(dir, writeWebUnit(dir, port, 'overlap'));
  try {
    await waitForHttp(port);
    Object.assign(out, await timedInterleaved(n, {
      nodeE0: () => run(process.execPath, ['-e', '0']),
      status: () => run(process.execPath, [CLI, 'status', '--control', up.control]),
    }));
  } finally {
    await stopProcess(up, 'SIGTERM', 20_000);
    rmSync(dir, { recursive: true, force: true });
  }
  if (withPm2) {
    await pm2Kill();
    try {
      await pm2(['ping']);
      out.pm2List = await timed(n, () => pm2(['list']).catch((e) => ({ code: 1, stderr: String(e) })));
    } finally {
      await pm2Kill();
    }
  }
  return out;
}
