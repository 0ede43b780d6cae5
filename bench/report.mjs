// Turns the benchmark results into RESULTS.md: machine, goals with pass/fail,
// the tables, and links to the timeline plots.
import os from 'node:os';
import { fmtMiB, fmtMs, median } from './lib/stats.mjs';

/** The machine the bench ran on. */
export function machineInfo() {
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
    loadAvg: os.loadavg().map((x) => +x.toFixed(2)),
  };
}

const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : '–');
const passFail = (ok) => (ok === undefined ? 'not measured' : ok ? '**pass**' : '**FAIL**');
const lat = (s) => `${fmtMs(s.p50)} / ${fmtMs(s.p99)} / ${fmtMs(s.max)}`;

/**
 * The soak's leak check: after a warm-up (the first quarter of the restarts) the
 * open-fd count and RSS must not grow. null without a soak.
 */
export function soakFlatness(soak) {
  if (!soak || soak.samples.length < 3) return null;
  const warm = soak.samples.filter((x) => x.restart <= soak.restarts / 4);
  const last = soak.samples.at(-1);
  const warmFds = Math.max(...warm.map((x) => x.fds));
  const warmRss = Math.max(...warm.map((x) => x.rssKiB));
  return { warmFds, warmRss, lastFds: last.fds, lastRss: last.rssKiB, ok: last.fds <= warmFds && last.rssKiB <= 1.05 * warmRss };
}

/** Evaluates the issue's goals against `r`: [{ goal, measured, ok }]. */
export function goals(r) {
  const out = [];
  const launcherRuns = r.restart.filter((p) => p.name.startsWith('launcher'));
  const failed = launcherRuns.reduce((n, p) => n + p.failed, 0) + (r.soak?.failed ?? 0);
  out.push({
    goal: '0 failed requests (launcher: every restart run and the soak)',
    measured: `${failed} failed of ${launcherRuns.reduce((n, p) => n + p.requests, 0) + (r.soak ? r.soak.ok + r.soak.failed : 0)}`,
    ok: launcherRuns.length ? failed === 0 : undefined,
  });
  const timed = [...launcherRuns.flatMap((p) => p.restarts), ...(r.soak ? r.soak.restartMs.map((ms, i) => ({ ms, readyMs: r.soak.readyMs[i] })) : [])];
  const slow = timed.filter((t) => t.ms > t.readyMs + 100);
  const worst = timed.length ? Math.max(...timed.map((t) => t.ms - t.readyMs)) : NaN;
  out.push({
    goal: 'a restart completes within the new child\'s ready time + 100 ms (control round trip)',
    measured: `${timed.length - slow.length}/${timed.length} within; median overhead ${fmtMs(median(timed.map((t) => t.ms - t.readyMs)))} ms, worst ${fmtMs(worst)} ms`,
    ok: timed.length ? slow.length === 0 : undefined,
  });
  const f = r.footprint;
  const eager = (n) => f?.launcher.find((x) => x.units === n && x.mode === 'eager');
  const e100 = eager(100);
  const e1000 = eager(1000);
  out.push({
    goal: 'launcher RSS with 100 units (each a socket and a running `sleep`) ÷ a bare idle node ≤ 1.5×',
    measured: e100 ? `${fmtMiB(e100.rssKiB)} MiB ÷ ${fmtMiB(f.bareNodeKiB)} MiB = ${ratio(e100.rssKiB, f.bareNodeKiB)}×` : '–',
    ok: e100 ? e100.rssKiB <= 1.5 * f.bareNodeKiB : undefined,
  });
  const perUnit = e100 && e1000 ? (e1000.rssKiB - e100.rssKiB) / 900 : NaN;
  out.push({
    goal: 'RSS per extra unit (100 → 1000 units, each running `sleep`) ≤ 60 KiB',
    measured: e100 && e1000 ? `(${fmtMiB(e1000.rssKiB)} − ${fmtMiB(e100.rssKiB)} MiB) ÷ 900 = ${perUnit.toFixed(0)} KiB (${(perUnit / 60).toFixed(2)}× the goal)` : '–',
    ok: e100 && e1000 ? perUnit <= 60 : undefined,
  });
  const c = r.cli;
  out.push({
    goal: '`launcher status` ÷ `node -e 0` ≤ 2× (medians, runs interleaved)',
    measured: c ? `${fmtMs(c.status.median)} ms ÷ ${fmtMs(c.nodeE0.median)} ms = ${ratio(c.status.median, c.nodeE0.median)}×` : '–',
    ok: c ? c.status.median <= 2 * c.nodeE0.median : undefined,
  });
  out.push({
    goal: '1000 units: `up` to all running ≤ 5 s',
    measured: e1000 ? `${(e1000.allRunningMs / 1000).toFixed(2)} s (${(e1000.allRunningMs / 5000).toFixed(2)}× the goal)` : '–',
    ok: e1000 ? e1000.allRunningMs <= 5000 : undefined,
  });
  const flat = soakFlatness(r.soak);
  out.push({
    goal: 'soak: open fds and RSS flat (end ≤ the most seen in the first quarter; RSS +5% slack)',
    measured: flat ? `fds ${flat.warmFds} → ${flat.lastFds}; RSS ${fmtMiB(flat.warmRss)} → ${fmtMiB(flat.lastRss)} MiB (${ratio(flat.lastRss, flat.warmRss)}×)` : '–',
    ok: flat ? flat.ok : undefined,
  });
  const l = r.logs;
  out.push({
    goal: 'service output under `up --log-dir` (stdout /dev/null) ≥ 0.5× the lines/s of writing a file itself',
    measured: l ? `${l.launcherLinesPerSec} vs ${l.selfLinesPerSec} lines/s (${l.ratio.toFixed(2)}×)` : '–',
    ok: l ? l.ratio >= 0.5 : undefined,
  });
  out.push({
    goal: 'a burst leaves ≤ (log-keep + 1) × log-max-size of logs per unit',
    measured: l ? `${fmtMiB(l.burst.bytes / 1024)} MiB printed → ${fmtMiB(l.burst.unitBytes / 1024)} MiB on disk in ${l.burst.files} files (bound ${fmtMiB(l.burst.boundBytes / 1024)} MiB)` : '–',
    ok: l ? l.burst.unitBytes <= l.burst.boundBytes : undefined,
  });
  const u = r.upgrade?.inPlace;
  out.push({
    goal: 'in-place upgrades under load: 0 failed requests, launcher and service pids unchanged',
    measured: u ? `${u.failed} failed of ${u.requests} over ${u.done} upgrades (median ${fmtMs(u.time.p50)} ms each); pids ${u.samePid && u.sameServicePids ? 'unchanged' : 'CHANGED'}` : '–',
    ok: u ? u.failed === 0 && u.refused === 0 && u.samePid && u.sameServicePids : undefined,
  });
  return out;
}

/** The headline restart table (also printed to the console and given to the README). */
export function restartTable(restart) {
  const rows = [
    '| peer | restarts | run (s) | requests/s | failed | steady p50 / p99 / max (ms) | during restart p50 / p99 / max (ms) | restart time median / max (ms) |',
    '|---|---:|---:|---:|---:|---|---|---|',
  ];
  for (const p of restart) {
    const ms = p.restarts.map((t) => t.ms);
    const seconds = p.durationMs / 1000;
    rows.push(`| ${p.label} | ${p.restarts.length + p.cliRestarts.length} | ${seconds.toFixed(1)} | ${(p.ok / seconds).toFixed(0)} | ${p.failed} | ${lat(p.steady)} | ${lat(p.inside)} | ${fmtMs(median(ms))} / ${fmtMs(Math.max(...ms))} |`);
  }
  return rows.join('\n');
}

/** RESULTS.md text for the results object `r`. */
export function renderResults(r) {
  const m = r.machine;
  const lines = [];
  lines.push('# Benchmark results', '');
  lines.push(`Generated by \`${r.command}\` on ${m.date}. Do not edit by hand: rerun the bench.`, '');
  lines.push(`Machine: ${m.nproc} CPUs (${m.cpu}), ${m.memGiB} GiB RAM, ${m.kernel}, Node ${m.node}` +
    (m.loadAvg ? `; load average at start ${m.loadAvg.join(' / ')}${m.loadAvgEnd ? `, at the end ${m.loadAvgEnd.join(' / ')}` : ''} (1/5/15 min).` : '.'), '');
  if (m.loadAvg && m.loadAvg[0] > m.nproc) {
    lines.push(`The machine was shared while this ran (load above its ${m.nproc} CPUs): timings carry that noise; medians and interleaved runs limit it, ratios within one run stay comparable.`, '');
  }
  if (r.note) lines.push(`> ${r.note}`, '');
  lines.push('## Goals', '', '| goal | measured | result |', '|---|---|---|');
  for (const g of goals(r)) lines.push(`| ${g.goal} | ${g.measured} | ${passFail(g.ok)} |`);
  lines.push('');
  lines.push('## 1. Restart under load', '');
  lines.push('Every peer runs the same service, `bench/apps/service.mjs` (it takes its socket from LISTEN_FDS, SERVER_STARTER_PORT or PORT, whichever its supervisor gives).', '');
  lines.push(`Load: ${r.options.concurrency} concurrent loops of \`GET /\` over a **new connection per request** (Connection: close), ` +
    `${r.options.restarts} restarts per peer with ${r.options.gapMs} ms of steady load between them. A request is "during restart" when it overlaps a restart window. ` +
    'Restart time: launcher = control-socket round trip of `restart web` (spawn → READY=1 → old child drained); Server::Starter = SIGHUP until the old worker died ' +
    '(it waits its `--interval` of 1 s before retiring the old generation); PM2 = wall time of `pm2 reload web` (includes the pm2 CLI); naive = kill until the new process listens.', '');
  lines.push(restartTable(r.restart), '');
  for (const s of r.skipped) lines.push(`- skipped **${s.name}**: ${s.reason}`);
  if (r.skipped.length) lines.push('');
  const withFailures = r.restart.filter((p) => p.failed > 0);
  for (const p of withFailures) lines.push(`- ${p.label} failures: ${Object.entries(p.errors).map(([k, v]) => `${k} ×${v}`).join(', ')}`);
  if (withFailures.length) lines.push('');
  for (const p of r.restart.filter((p) => p.name.startsWith('launcher'))) {
    const ready = p.restarts.map((t) => t.readyMs);
    const drain = p.restarts.map((t) => t.drainMs);
    lines.push(`- ${p.label}: new child ready in median ${fmtMs(median(ready))} ms, old child drained in median ${fmtMs(median(drain))} ms` +
      (p.cliRestarts.length ? `; \`launcher restart web\` CLI wall time median ${fmtMs(median(p.cliRestarts.map((t) => t.ms)))} ms (its own report: "${p.cliRestarts.at(-1).line}")` : ''));
  }
  lines.push('');
  lines.push('Timelines (requests per 100 ms; shaded = restart in progress; red = failed):', '');
  for (const p of r.restart) lines.push(`### ${p.label}`, '', `![${p.label}](${p.svg})`, '');
  if (r.steady) {
    const st = r.steady;
    lines.push('## 1b. Steady state: is the launcher in the data path?', '');
    lines.push(`The same service (\`bench/apps/service.mjs\`) under the same load (${st.concurrency} loops, a new connection per request), ` +
      `once binding 127.0.0.1:PORT itself and once on the socket \`launcher up\` passes it as fd 3; ${st.rounds} alternating rounds of ${st.seconds} s each, medians shown. ` +
      'The load client runs in the bench process on the same 2 CPUs, so absolute requests/s measure the box; the ratio is what matters.', '');
    lines.push('| service | requests/s | p50 (ms) | p99 (ms) | failed | launcher CPU during the load |', '|---|---:|---:|---:|---:|---:|');
    lines.push(`| binds its own port | ${st.self.rps.toFixed(0)} | ${fmtMs(st.self.p50)} | ${fmtMs(st.self.p99)} | ${st.self.failed} | – |`);
    lines.push(`| behind the launcher | ${st.launcher.rps.toFixed(0)} | ${fmtMs(st.launcher.p50)} | ${fmtMs(st.launcher.p99)} | ${st.launcher.failed} | ${st.launcher.cpuPct.toFixed(1)}% of one CPU |`, '');
    lines.push(`Requests/s behind the launcher ÷ alone: **${st.ratio.toFixed(2)}** (per round: ${st.launcher.runs.map((x, i) => `${(x.rps / st.self.runs[i].rps).toFixed(2)}`).join(', ')}). ` +
      'The launcher holds the listening socket and never accepts on it: the kernel hands connections to the service directly.', '');
  }
  if (r.footprint) {
    const f = r.footprint;
    lines.push('## 2. Footprint', '');
    lines.push('RSS of the launcher process itself (its services excluded), and its anonymous part (heap; the rest is the node binary and libraries mapped from disk). ' +
      'Every unit owns an abstract unix socket and runs `sleep 3600`: eager units at `up`; on-demand units only once a connection arrives, so none runs here. ' +
      'RSS is the most seen over 1.5 s once the launcher is settled.', '');
    lines.push('| what | RSS (MiB) | anonymous (MiB) | × bare node | per unit vs the row above (KiB) | up (units loaded) ms | all units running ms |', '|---|---:|---:|---:|---:|---:|---:|');
    lines.push(`| bare \`node -e 'setInterval(()=>{},1e9)'\` | ${fmtMiB(f.bareNodeKiB)} | | 1.00 | | | |`);
    let previous = null;
    for (const u of f.launcher) {
      const perUnit = previous && previous.mode === u.mode ? ((u.rssKiB - previous.rssKiB) / (u.units - previous.units)).toFixed(0) : '';
      lines.push(`| launcher, ${u.units} ${u.mode} unit${u.units > 1 ? 's' : ''} | ${fmtMiB(u.rssKiB)} | ${fmtMiB(u.anonKiB)} | ${ratio(u.rssKiB, f.bareNodeKiB)} | ${perUnit} | ${fmtMs(u.loadedMs)} | ${u.allRunningMs === null ? '' : fmtMs(u.allRunningMs)} |`);
      previous = u;
    }
    if (f.pm2) {
      lines.push(`| PM2 daemon, idle | ${fmtMiB(f.pm2.idleKiB)} | | ${ratio(f.pm2.idleKiB, f.bareNodeKiB)} | | | |`);
      lines.push(`| PM2 daemon, ${f.pm2.apps} \`sleep\` apps (fork mode) | ${fmtMiB(f.pm2.withAppsKiB)} | | ${ratio(f.pm2.withAppsKiB, f.bareNodeKiB)} | | | ${fmtMs(f.pm2.startMs)} (\`pm2 start\` wall) |`);
    }
    lines.push('');
    if (f.perChild) {
      lines.push('### Cost per child process', '');
      lines.push(`${f.perChild[0]?.children} \`sleep\` processes spawned in a fresh \`node --expose-gc\` each way; growth of the live heap (after full GCs) and of RSS, per child. ` +
        '"launcher" is `spawnService` itself (execa, stdout/stderr split into lines, exit bookkeeping).', '');
      lines.push('| spawned with | heap per child (KiB) | RSS per child (KiB) |', '|---|---:|---:|');
      for (const c of f.perChild) lines.push(`| ${c.style} | ${c.heapKiBPerChild} | ${c.rssKiBPerChild} |`);
      lines.push('');
    }
    if (f.modules) {
      lines.push('### Base cost by module', '');
      lines.push('An idle node that imported one thing, each in a fresh process (RSS settled over 1.5 s).', '');
      lines.push('| imported | RSS (MiB) | anonymous (MiB) | RSS − bare node (MiB) |', '|---|---:|---:|---:|');
      const bare = f.modules[0];
      for (const m of f.modules) lines.push(`| ${m.what} | ${fmtMiB(m.rssKiB)} | ${fmtMiB(m.anonKiB)} | ${m === bare ? '' : fmtMiB(m.rssKiB - bare.rssKiB)} |`);
      lines.push('');
    }
    lines.push('Where the memory goes, and what was changed for it: [FOOTPRINT.md](FOOTPRINT.md).', '');
  }
  if (r.cli) {
    const c = r.cli;
    lines.push('## 3. CLI latency', '', `Median wall time of ${c.nodeE0.n} runs each (one warm-up run not counted).`, '');
    lines.push('| command | median ms | min | max | × node -e 0 |', '|---|---:|---:|---:|---:|');
    const row = (name, s) => lines.push(`| ${name} | ${fmtMs(s.median)} | ${fmtMs(s.min)} | ${fmtMs(s.max)} | ${ratio(s.median, c.nodeE0.median)} |`);
    row('`node -e 0`', c.nodeE0);
    row('`launcher status`', c.status);
    if (c.pm2List) row('`pm2 list`', c.pm2List);
    lines.push('');
  }
  if (r.logs) {
    const l = r.logs;
    lines.push('## 5. Logs', '');
    lines.push(`A service printing short lines (\`bench/apps/line-printer.mjs\`, blocking writes of 100 lines) as fast as it can for ${l.seconds} s: ` +
      'under `launcher up --log-dir` with the launcher\'s stdout at /dev/null, and the same service writing to a file itself.', '');
    lines.push('| measure | value |', '|---|---:|');
    lines.push(`| lines/s under the launcher | ${l.launcherLinesPerSec} |`);
    lines.push(`| lines/s writing a file itself | ${l.selfLinesPerSec} |`);
    lines.push(`| ratio | ${l.ratio.toFixed(2)} |`);
    lines.push(`| launcher CPU per 100k lines | ${fmtMs(l.cpuMsPer100kLines)} ms |`);
    lines.push(`| launcher RSS before / after the run | ${fmtMiB(l.rssBeforeKiB)} / ${fmtMiB(l.rssAfterKiB)} MiB |`);
    lines.push(`| burst: printed → kept on disk for the unit | ${fmtMiB(l.burst.bytes / 1024)} MiB → ${fmtMiB(l.burst.unitBytes / 1024)} MiB (--log-max-size ${fmtMiB(l.burst.maxSize / 1024)} MiB, --log-keep ${l.burst.keep}; bound ${fmtMiB(l.burst.boundBytes / 1024)} MiB) |`);
    lines.push(`| launcher RSS after the burst | ${fmtMiB(l.burst.rssAfterKiB)} MiB |`, '');
  }
  if (r.soak) {
    const s = r.soak;
    const first = s.samples[0];
    const last = s.samples.at(-1);
    const maxFds = Math.max(...s.samples.map((x) => x.fds));
    const maxRss = Math.max(...s.samples.map((x) => x.rssKiB));
    lines.push('## 4. Soak', '');
    lines.push(`${s.restarts} restarts (overlap) back to back under continuous load in ${(s.durationMs / 1000).toFixed(0)} s: ` +
      `**${s.failed} failed** of ${s.ok + s.failed} requests; restart round trip median ${fmtMs(median(s.restartMs))} ms, max ${fmtMs(Math.max(...s.restartMs))} ms; ` +
      `${s.overReady100} restarts took longer than their child's ready time + 100 ms.`, '');
    const flat = soakFlatness(s);
    if (flat) lines.push(`Leak check (after the first quarter as warm-up): open fds ${flat.warmFds} → ${flat.lastFds}, RSS ${fmtMiB(flat.warmRss)} → ${fmtMiB(flat.lastRss)} MiB: **${flat.ok ? 'flat' : 'GROWING'}**.`, '');
    lines.push('| launcher | first | last | max | growth (last − first) |', '|---|---:|---:|---:|---:|');
    lines.push(`| open fds | ${first.fds} | ${last.fds} | ${maxFds} | ${last.fds - first.fds} |`);
    lines.push(`| RSS (MiB) | ${fmtMiB(first.rssKiB)} | ${fmtMiB(last.rssKiB)} | ${fmtMiB(maxRss)} | ${fmtMiB(last.rssKiB - first.rssKiB)} |`, '');
    if (s.failed) lines.push(`Failures: ${Object.entries(s.errors).map(([k, v]) => `${k} ×${v}`).join(', ')}`, '');
  }
  return lines.join('\n') + '\n';
}
