// Numbers from recorded load: percentiles, the split of requests into restart
// windows vs steady state, and per-bucket counts for the timeline plots.

/** The q-quantile (0..1) of `values` by nearest rank; NaN for an empty list. */
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/** Median of `values`. */
export const median = (values) => quantile(values, 0.5);

/** { n, p50, p99, max } of a list of latencies in ms. */
export function latencySummary(values) {
  return { n: values.length, p50: quantile(values, 0.5), p99: quantile(values, 0.99), max: values.length ? Math.max(...values) : NaN };
}

/**
 * Splits recorded requests by whether they STARTED inside one of `windows`
 * ([{from, to}] in load-clock ms). Returns { inside, steady } latency lists
 * (successful requests only) and { insideFailed, steadyFailed } counts.
 */
export function splitByWindows(load, windows) {
  const inside = [];
  const steady = [];
  let insideFailed = 0;
  let steadyFailed = 0;
  const sorted = [...windows].sort((a, b) => a.from - b.from);
  for (let i = 0; i < load.starts.length; i++) {
    const t = load.starts[i];
    const end = t + load.latencies[i];
    // A request overlapping a window (started in it, or still running when it began) met the restart.
    const inWindow = sorted.some((w) => t <= w.to && end >= w.from);
    if (load.oks[i]) (inWindow ? inside : steady).push(load.latencies[i]);
    else if (inWindow) insideFailed++;
    else steadyFailed++;
  }
  return { inside, steady, insideFailed, steadyFailed };
}

/**
 * Counts completed requests per `bucketMs` by completion time:
 * { bucketMs, ok: number[], failed: number[] }.
 */
export function buckets(load, bucketMs = 100) {
  const n = Math.max(1, Math.ceil(load.durationMs / bucketMs));
  const ok = new Array(n).fill(0);
  const failed = new Array(n).fill(0);
  for (let i = 0; i < load.starts.length; i++) {
    const b = Math.min(n - 1, Math.floor((load.starts[i] + load.latencies[i]) / bucketMs));
    (load.oks[i] ? ok : failed)[b]++;
  }
  return { bucketMs, ok, failed };
}

/** Formats a number of ms for tables: "12.3" / "1234"; "–" for NaN. */
export function fmtMs(ms) {
  if (!Number.isFinite(ms)) return '–';
  return ms >= 100 ? String(Math.round(ms)) : ms.toFixed(1);
}

/** Formats KiB as MiB with one decimal. */
export const fmtMiB = (kib) => (Number.isFinite(kib) ? (kib / 1024).toFixed(1) : '–');
