// Benchmark 4, soak: many restarts of the launcher (overlap handoff) under
// continuous load; counts failed requests and samples the launcher's open-fd
// count and RSS along the way to expose leaks.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLoad } from './lib/load.mjs';
import { fdCount, freePort, rssKiB } from './lib/proc.mjs';
import { launcherPeer } from './peers/launcher.mjs';

/**
 * Runs `restarts` restarts back to back under load (`concurrency`), sampling
 * every `sampleEvery` restarts. Resolves { restarts, ok, failed, errors,
 * samples: [{restart, fds, rssKiB}], restartMs: [...], overReady100: count of
 * restarts slower than their child's ready time + 100 ms, durationMs }.
 */
export async function soak({ restarts, concurrency = 8, sampleEvery = 25, onProgress = () => {} }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-soak-'));
  const port = await freePort();
  const handle = await launcherPeer('overlap').start({ port, dir });
  const samples = [{ restart: 0, fds: fdCount(handle.pid), rssKiB: rssKiB(handle.pid) }];
  const timings = [];
  const load = startLoad(port, { concurrency, record: false });
  let report;
  try {
    for (let i = 1; i <= restarts; i++) {
      timings.push(await handle.restart());
      if (i % sampleEvery === 0 || i === restarts) {
        samples.push({ restart: i, fds: fdCount(handle.pid), rssKiB: rssKiB(handle.pid) });
        onProgress(i, report ?? load.result);
      }
    }
  } finally {
    report = await load.stop();
    await handle.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    restarts,
    ok: report.ok,
    failed: report.failed,
    errors: Object.fromEntries(report.errors),
    samples,
    restartMs: timings.map((t) => t.ms),
    readyMs: timings.map((t) => t.readyMs),
    overReady100: timings.filter((t) => t.ms > t.readyMs + 100).length,
    durationMs: report.durationMs,
  };
}
