// Benchmark 2b, cost per child process: the launcher's heap and RSS per running
// service, spawned the way the launcher spawns (src/supervisor/spawn.ts through
// execa, output split into lines), against bare child_process.spawn of the same
// `sleep` with the same stdio. Each style runs in a fresh `node --expose-gc`
// (bench/lib/per-child-worker.mjs) so one cannot inflate the other's heap.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './lib/proc.mjs';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib/per-child-worker.mjs');

/** [{ style, children, heapKiBPerChild, rssKiBPerChild }] for each spawn style. */
export async function perChildCost(children) {
  const out = [];
  for (const style of ['child_process', 'execa', 'launcher']) {
    const r = await run(process.execPath, ['--expose-gc', WORKER, style, String(children)], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`per-child ${style} exited ${r.code}: ${r.stderr}`);
    out.push(JSON.parse(r.stdout.trim().split('\n').pop()));
  }
  return out;
}
