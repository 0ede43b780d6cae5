// Hand-written SVG for the restart timelines: successful requests per bucket as
// a line, failed requests as red bars, restart windows shaded. No dependencies.

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" tick step (1, 2, 5 × 10^k) giving about `count` ticks over `span`. */
function tickStep(span, count) {
  const raw = span / Math.max(1, count);
  const pow = 10 ** Math.floor(Math.log10(raw || 1));
  return [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
}

/**
 * Renders one peer's timeline. `series` is from stats.buckets(); `windows` are
 * restart intervals [{from, to}] in ms on the same clock. Returns SVG text.
 */
export function timelineSvg({ title, series, windows = [] }) {
  const W = 960;
  const H = 320;
  const m = { l: 56, r: 16, t: 40, b: 44 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const n = series.ok.length;
  const spanMs = n * series.bucketMs;
  const yMax = Math.max(1, ...series.ok, ...series.failed) * 1.1;
  const x = (ms) => m.l + (ms / spanMs) * pw;
  const y = (v) => m.t + ph - (v / yMax) * ph;
  const parts = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.l}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`);
  for (const w of windows) {
    const x0 = x(Math.max(0, w.from));
    const x1 = Math.max(x0 + 1, x(Math.min(spanMs, w.to)));
    parts.push(`<rect x="${x0.toFixed(1)}" y="${m.t}" width="${(x1 - x0).toFixed(1)}" height="${ph}" fill="#dde4f0"/>`);
  }
  // Axes and ticks.
  const yStep = tickStep(yMax, 5);
  for (let v = 0; v <= yMax; v += yStep) {
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`);
  }
  const xStepS = tickStep(spanMs / 1000, 10);
  for (let s = 0; s * 1000 <= spanMs; s += xStepS) {
    parts.push(`<text x="${x(s * 1000).toFixed(1)}" y="${m.t + ph + 16}" text-anchor="middle">${+s.toFixed(3)}</text>`);
  }
  parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 8}" text-anchor="middle">time (s)</text>`);
  parts.push(`<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">requests per ${series.bucketMs} ms</text>`);
  // Failed requests as bars, successful ones as a line on top.
  const bw = Math.max(1, pw / n);
  series.failed.forEach((v, i) => {
    if (v > 0) parts.push(`<rect x="${x(i * series.bucketMs).toFixed(1)}" y="${y(v).toFixed(1)}" width="${bw.toFixed(1)}" height="${(m.t + ph - y(v)).toFixed(1)}" fill="#d62728"/>`);
  });
  const pts = series.ok.map((v, i) => `${x((i + 0.5) * series.bucketMs).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  parts.push(`<polyline points="${pts}" fill="none" stroke="#2ca02c" stroke-width="1.5"/>`);
  // Legend.
  const lx = m.l + pw - 330;
  parts.push(`<line x1="${lx}" x2="${lx + 18}" y1="18" y2="18" stroke="#2ca02c" stroke-width="2"/><text x="${lx + 22}" y="22">ok</text>`);
  parts.push(`<rect x="${lx + 50}" y="12" width="12" height="12" fill="#d62728"/><text x="${lx + 66}" y="22">failed</text>`);
  parts.push(`<rect x="${lx + 120}" y="12" width="12" height="12" fill="#dde4f0"/><text x="${lx + 136}" y="22">restart in progress</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
