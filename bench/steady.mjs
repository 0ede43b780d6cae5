// Benchmark 1b, steady state: is the launcher in the data path? The same service
// (apps/service.mjs) under the same load, once binding its own port (PORT) and
// once behind the launcher (fd 3 from `launcher up`), alternated A B A B so that
// drifting load on a shared machine hits both alike. Reports requests/s and
// latency per setup and the launcher's own CPU time while the load ran.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { APPS } from './lib/paths.mjs';
import { startLoad } from './lib/load.mjs';
import { cpuMs, freePort, pause, start, stopProcess, waitForHttp } from './lib/proc.mjs';
import { latencySummary, median } from './lib/stats.mjs';
import { startLauncherUp, writeWebUnit } from './peers/launcher.mjs';

async function loadFor(port, { seconds, concurrency }) {
  const load = startLoad(port, { concurrency });
  await pause(seconds * 1000);
  const r = await load.stop();
  const ok = r.latencies.filter((_, i) => r.oks[i]);
  return { rps: r.ok / (r.durationMs / 1000), failed: r.failed, latency: latencySummary(ok), durationMs: r.durationMs };
}

async function selfBinding(opts) {
  const port = await freePort();
  const proc = start(process.execPath, [path.join(APPS, 'service.mjs')], { env: { ...process.env, PORT: String(port) } });
  try {
    await proc.waitForLine(/listening on/, 20_000);
    await waitForHttp(port);
    return await loadFor(port, opts);
  } finally {
    await stopProcess(proc);
  }
}

async function behindLauncher(opts) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-steady-'));
  const port = await freePort();
  const up = await startLauncherUp(dir, writeWebUnit(dir, port, 'overlap'));
  try {
    await waitForHttp(port);
    const cpu0 = cpuMs(up.pid);
    const r = await loadFor(port, opts);
    const launcherCpuMs = cpuMs(up.pid) - cpu0;
    return { ...r, launcherCpuMs, launcherCpuPct: (100 * launcherCpuMs) / r.durationMs };
  } finally {
    await stopProcess(up, 'SIGTERM', 20_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `rounds` alternations of `seconds` of load each: { self, launcher, ratio } where
 * self/launcher hold the median requests/s, p50/p99 latency of the rounds and the
 * per-round values; ratio = launcher rps ÷ self rps (1.00 = no cost).
 */
export async function steadyState({ rounds = 2, seconds = 5, concurrency = 8 } = {}) {
  const self = [];
  const launcher = [];
  for (let i = 0; i < rounds; i++) {
    self.push(await selfBinding({ seconds, concurrency }));
    launcher.push(await behindLauncher({ seconds, concurrency }));
  }
  const summary = (runs) => ({
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.latency.p50)),
    p99: median(runs.map((r) => r.latency.p99)),
    failed: runs.reduce((n, r) => n + r.failed, 0),
    runs,
  });
  const out = { rounds, seconds, concurrency, self: summary(self), launcher: summary(launcher) };
  out.launcher.cpuPct = median(launcher.map((r) => r.launcherCpuPct));
  out.ratio = out.launcher.rps / out.self.rps;
  return out;
}
