// A small load generator for restart tests: each request on a fresh TCP
// connection (so a refused or reset connection during a swap is counted), a
// few requests in flight, bounded in time, loopback only.
import { httpGet } from './harness.js';

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
