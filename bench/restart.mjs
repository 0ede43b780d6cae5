// Benchmark 1, restart under load: for each peer, steady load on a fresh
// connection per request, N restarts with steady gaps between them, then the
// failures, latencies inside restart windows vs steady state, restart times,
// and a per-100 ms timeline plot.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLoad } from './lib/load.mjs';
import { freePort, pause } from './lib/proc.mjs';
import { buckets, latencySummary, splitByWindows } from './lib/stats.mjs';
import { timelineSvg } from './lib/svg.mjs';

/**
 * Runs the restart benchmark for one started-able `peer`. Options: restarts
 * (N), cliRestarts (extra restarts through the CLI, launcher peers only),
 * concurrency, steadyMs (before, between and after restarts), outDir (for the
 * SVG). Resolves a result object for the report.
 */
export async function benchRestarts(peer, { restarts, cliRestarts = 0, concurrency = 8, steadyMs = 1000, gapMs = 400, outDir }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-${peer.name}-`));
  const port = await freePort();
  const handle = await peer.start({ port, dir });
  const windows = [];
  const results = [];
  const cliResults = [];
  let load;
  let report;
  try {
    load = startLoad(port, { concurrency });
    await pause(steadyMs);
    const once = async (how) => {
      const from = load.now();
      const r = await how();
      windows.push({ from, to: load.now() });
      await pause(gapMs);
      return r;
    };
    for (let i = 0; i < restarts; i++) results.push(await once(() => handle.restart()));
    for (let i = 0; i < cliRestarts; i++) cliResults.push(await once(() => handle.restartCli()));
    await pause(steadyMs);
  } finally {
    if (load) report = await load.stop();
    await handle.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const split = splitByWindows(report, windows);
  const svgName = `restart-${peer.name}.svg`;
  writeFileSync(
    path.join(outDir, svgName),
    timelineSvg({ title: `${peer.label}: ${results.length + cliResults.length} restarts under load (${concurrency} concurrent, new connection per request)`, series: buckets(report, 100), windows }),
  );
  return {
    name: peer.name,
    label: peer.label,
    requests: report.ok + report.failed,
    ok: report.ok,
    failed: report.failed,
    errors: Object.fromEntries(report.errors),
    durationMs: report.durationMs,
    restarts: results,
    cliRestarts: cliResults,
    inside: latencySummary(split.inside),
    steady: latencySummary(split.steady),
    insideFailed: split.insideFailed,
    steadyFailed: split.steadyFailed,
    svg: svgName,
  };
}
