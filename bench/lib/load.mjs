// The load for restart benchmarks: `concurrency` loops of GET / on a fresh TCP
// connection each (Connection: close), so a refused or reset connection during
// a swap is seen and counted. Every request's start time, latency and outcome
// is recorded (relative to the load's own clock) for windows, percentiles and plots.
import http from 'node:http';

/**
 * Starts the load against 127.0.0.1:`port`. `record: false` keeps only counters
 * (for long soaks). stop() resolves with
 * { ok, failed, errors: Map<message, count>, t0, starts, latencies, oks, durationMs }
 * where starts/latencies are ms on the load's clock (0 = start of the load) and
 * oks[i] is 1 for a 200 answer, 0 for anything else.
 */
export function startLoad(port, { concurrency = 8, record = true, timeoutMs = 10_000 } = {}) {
  const t0 = performance.now();
  const result = { ok: 0, failed: 0, errors: new Map(), t0, starts: [], latencies: [], oks: [], durationMs: 0 };
  let running = true;
  const fail = (message) => {
    result.failed++;
    result.errors.set(message, (result.errors.get(message) ?? 0) + 1);
  };
  const one = () =>
    new Promise((resolve) => {
      const started = performance.now();
      const done = (ok, message) => {
        if (ok) result.ok++;
        else fail(message);
        if (record) {
          result.starts.push(started - t0);
          result.latencies.push(performance.now() - started);
          result.oks.push(ok ? 1 : 0);
        }
        resolve();
      };
      const req = http.get(
        { host: '127.0.0.1', port, path: '/', agent: false, headers: { connection: 'close' }, timeout: timeoutMs },
        (res) => {
          res.resume();
          res.on('end', () => done(res.statusCode === 200, `HTTP ${res.statusCode}`));
          res.on('error', (e) => done(false, e.code ?? e.message));
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (e) => done(false, e.code ?? e.message));
    });
  const loop = async () => {
    while (running) await one();
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    result,
    /** Milliseconds on the load's clock now. */
    now: () => performance.now() - t0,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      result.durationMs = performance.now() - t0;
      return result;
    },
  };
}
