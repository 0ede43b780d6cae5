// A small load generator for restart tests: each request on a fresh TCP
// connection (so a refused or reset connection during a swap is counted), a
// few requests in flight, bounded in time, loopback only.
import { httpGet } from './launcher.js';

export interface LoadReport {
  ok: number;
  failed: number;
  /** Each failure's message (first 20). */
  errors: string[];
  /** Distinct response bodies seen (e.g. pids of the children that served). */
  bodies: Map<string, number>;
}

/**
 * Runs until stop() is called (or maxMs passes): `concurrency` loops of GET
 * requests. A non-200 status, a refused or reset connection, or a timeout
 * counts as failed.
 */
export function startLoad(port: number, { concurrency = 4, maxMs = 120_000, path = '/' } = {}): { stop: () => Promise<LoadReport>; report: LoadReport } {
  const report: LoadReport = { ok: 0, failed: 0, errors: [], bodies: new Map() };
  let running = true;
  const deadline = Date.now() + maxMs;
  const loop = async (): Promise<void> => {
    while (running && Date.now() < deadline) {
      try {
        const r = await httpGet(port, path, '127.0.0.1', 10_000);
        if (r.status === 200) {
          report.ok++;
          report.bodies.set(r.body, (report.bodies.get(r.body) ?? 0) + 1);
        } else {
          report.failed++;
          if (report.errors.length < 20) report.errors.push(`status ${r.status}`);
        }
      } catch (error) {
        report.failed++;
        if (report.errors.length < 20) report.errors.push(String(error));
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    report,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return report;
    },
  };
}

/** One `launcher restart` as printed: "web: OLD → NEW, ready in N ms, drained in M ms". */
export interface Swap {
  oldPid: number;
  newPid: number;
  readyMs: number;
  drainMs: number;
}

const SWAP_LINE = /^(\S+?)(?:\[\d+\])?: (\d+|-) → (\d+), ready in (\d+) ms, drained in (\d+) ms$/gm;

/** Every swap line in `launcher restart` output. */
export function parseSwaps(stdout: string): Swap[] {
  return [...stdout.matchAll(SWAP_LINE)].map((m) => ({
    oldPid: Number(m[2]),
    newPid: Number(m[3]),
    readyMs: Number(m[4]),
    drainMs: Number(m[5]),
  }));
}

/**
 * Runs `restart` (e.g. `() => launcher.cli(['restart', 'web'])`) `times` times
 * in a row while startLoad hits `port`; resolves with each run's result and
 * swaps and the load report. Stops at the first non-zero exit (callers assert).
 */
export async function restartUnderLoad(
  port: number,
  times: number,
  restart: () => Promise<{ exitCode: number; stdout: string; stderr: string }>,
  { concurrency = 4 } = {},
): Promise<{ runs: { exitCode: number; stdout: string; stderr: string; swaps: Swap[] }[]; report: LoadReport }> {
  const load = startLoad(port, { concurrency });
  const runs: { exitCode: number; stdout: string; stderr: string; swaps: Swap[] }[] = [];
  try {
    for (let i = 0; i < times; i++) {
      const r = await restart();
      runs.push({ ...r, swaps: parseSwaps(r.stdout) });
      if (r.exitCode !== 0) break;
    }
  } finally {
    await load.stop();
  }
  return { runs, report: load.report };
}

/**
 * What went wrong in a restartUnderLoad run of `times` restarts, as readable
 * lines (empty when all is well): a restart that did not exit 0 or did not
 * print exactly one swap, a swap whose old pid is not the previous new pid,
 * any failed request, or load that did not span the swaps (too few requests,
 * too few distinct answers). Assert `toEqual([])` to see every problem at once.
 */
export function restartProblems(runs: { exitCode: number; stdout: string; stderr: string; swaps: Swap[] }[], report: LoadReport, times: number): string[] {
  const problems: string[] = [];
  if (runs.length !== times) problems.push(`${runs.length} restarts ran, expected ${times}`);
  let previous: number | undefined;
  for (const [i, run] of runs.entries()) {
    if (run.exitCode !== 0) problems.push(`restart ${i} exited ${run.exitCode}: ${run.stdout} ${run.stderr}`);
    if (run.swaps.length !== 1) problems.push(`restart ${i} printed ${run.swaps.length} swap lines: ${run.stdout}`);
    const swap = run.swaps[0];
    if (!swap) continue;
    if (swap.newPid === swap.oldPid) problems.push(`restart ${i} kept pid ${swap.oldPid}`);
    if (previous !== undefined && swap.oldPid !== previous) problems.push(`restart ${i} replaced ${swap.oldPid}, expected ${previous}`);
    previous = swap.newPid;
  }
  if (report.failed > 0) problems.push(`${report.failed} failed requests: ${report.errors.join('; ')}`);
  if (report.ok <= times * 2) problems.push(`only ${report.ok} requests succeeded`);
  if (report.bodies.size <= times / 2) problems.push(`only ${report.bodies.size} distinct answers`);
  return problems;
}
