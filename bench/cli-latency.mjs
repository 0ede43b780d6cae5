// Benchmark 3, CLI latency: wall time of `launcher status` against a running
// launcher, `node -e 0`, and `pm2 list` against a running daemon (median of N).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from './lib/paths.mjs';
import { startLauncherUp, writeWebUnit } from './peers/launcher.mjs';
import { pm2, pm2Kill } from './peers/pm2.mjs';
import { freePort, run, stopProcess, waitForHttp } from './lib/proc.mjs';
import { median } from './lib/stats.mjs';

async function timed(n, fn) {
  await fn(); // warm the page cache; not counted
  const samples = [];
  for (let i = 0; i < n; i++) {
    const r = await fn();
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
    samples.push(r.ms);
  }
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), n };
}

/** { nodeE0, status, pm2List? } each { median, min, max, n } in ms. `withPm2` adds `pm2 list`. */
export async function cliLatency(n, { withPm2 }) {
  const out = {};
  out.nodeE0 = await timed(n, () => run(process.execPath, ['-e', '0']));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-cli-'));
  const port = await freePort();
  const up = await startLauncherUp(dir, writeWebUnit(dir, port, 'overlap'));
  try {
    await waitForHttp(port);
    out.status = await timed(n, () => run(process.execPath, [CLI, 'status', '--control', up.control]));
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
