// In-place upgrades of the launcher under load: `launcher upgrade` N times while 8
// client loops send GET / over a new connection per request to a unit of two
// instances of the benchmark service. Reports each upgrade's time (command to done:
// the CLI returns once the new code answers as upgraded), requests failed, and
// whether the launcher's pid and every service pid stayed the same. For contrast,
// the way to install a new launcher without it: `down` + `up` (a few cycles).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, ROOT } from './lib/paths.mjs';
import { startLoad } from './lib/load.mjs';
import { freePort, run, start, stopProcess, waitFor, waitForHttp } from './lib/proc.mjs';
import { fmtMs, latencySummary, median, quantile } from './lib/stats.mjs';

const SERVICE = path.join(ROOT, 'bench/apps/service.mjs');

async function status(control) {
  const r = await run(process.execPath, [CLI, 'status', '--json', '--control', control]);
  if (r.code !== 0) throw new Error(`status: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function upArgs(dir) {
  return [CLI, 'up', '--units', path.join(dir, 'units'), '--control', path.join(dir, 'ctl', 'control.sock')];
}

async function upAndReady(dir, port) {
  const proc = start(process.execPath, upArgs(dir), { cwd: dir });
  await proc.waitForLine(/units? loaded/, 60_000);
  await waitForHttp(port);
  const control = path.join(dir, 'ctl', 'control.sock');
  await waitFor(async () => (await status(control)).units.every((u) => u.state === 'running') || undefined, { what: 'units running' });
  return proc;
}

/** `upgrades` in-place upgrades under load, then `cycles` of down + up under load. */
export async function benchUpgrade({ upgrades = 100, cycles = 3, concurrency = 8, log = () => {} } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'launcher-bench-upgrade-'));
  const port = await freePort();
  mkdirSync(path.join(dir, 'units'));
  writeFileSync(
    path.join(dir, 'units', 'web.toml'),
    ['[service]', `exec = ["node", ${JSON.stringify(SERVICE)}]`, 'ready = "notify"', 'instances = 2', '[[socket]]', `listen = "127.0.0.1:${port}"`, ''].join('\n'),
  );
  const control = path.join(dir, 'ctl', 'control.sock');
  const out = { upgrades, concurrency, loadAvg: os.loadavg().map((x) => +x.toFixed(2)) };

  let proc = await upAndReady(dir, port);
  const before = await status(control);
  const load = startLoad(port, { concurrency, record: false });
  const times = [];
  let refused = 0;
  for (let i = 0; i < upgrades; i++) {
    const r = await run(process.execPath, [CLI, 'upgrade', '--control', control]);
    if (r.code !== 0) {
      refused++;
      log(`  upgrade ${i + 1} exited ${r.code}: ${r.stderr.trim()}`);
    } else times.push(r.ms);
    if ((i + 1) % 20 === 0) log(`  ${i + 1}/${upgrades} upgrades, median ${fmtMs(median(times))} ms`);
  }
  const upgraded = await load.stop();
  const after = await status(control);
  const pidsOf = (s) => s.units.map((u) => u.pids.join(',')).join(';');
  out.inPlace = {
    done: times.length,
    refused,
    requests: upgraded.ok + upgraded.failed,
    failed: upgraded.failed,
    errors: Object.fromEntries(upgraded.errors ?? []),
    seconds: +(upgraded.durationMs / 1000).toFixed(1),
    rps: Math.round((upgraded.ok + upgraded.failed) / (upgraded.durationMs / 1000)),
    time: latencySummary(times),
    p90: quantile(times, 0.9),
    samePid: after.launcher.pid === before.launcher.pid,
    sameServicePids: pidsOf(after) === pidsOf(before),
    upgradesCounted: after.launcher.upgrades,
  };
  log(`  in place: ${times.length} upgrades, median ${fmtMs(out.inPlace.time.p50)} ms, ${upgraded.failed} of ${out.inPlace.requests} requests failed`);

  // The alternative: down + up.
  const cycleTimes = [];
  const cyclesLoad = startLoad(port, { concurrency, record: false });
  for (let i = 0; i < cycles; i++) {
    const t0 = performance.now();
    const down = await run(process.execPath, [CLI, 'down', '--control', control]);
    if (down.code !== 0) throw new Error(`down: ${down.stderr}`);
    await proc.exited;
    proc = await upAndReady(dir, port);
    cycleTimes.push(performance.now() - t0);
  }
  const cycled = await cyclesLoad.stop();
  out.downUp = {
    cycles,
    requests: cycled.ok + cycled.failed,
    failed: cycled.failed,
    seconds: +(cycled.durationMs / 1000).toFixed(1),
    time: latencySummary(cycleTimes),
  };
  log(`  down + up: ${cycles} cycles, median ${fmtMs(out.downUp.time.p50)} ms, ${cycled.failed} of ${out.downUp.requests} requests failed`);
  await stopProcess(proc, 'SIGTERM', 20_000);
  return out;
}

/** The RESULTS.md section for benchUpgrade's results. */
export function upgradeSection(u) {
  if (!u) return '';
  const p = u.inPlace;
  const d = u.downUp;
  return [
    '## Upgrading the launcher itself',
    '',
    `\`launcher upgrade\` ${u.upgrades} times in a row while ${u.concurrency} client loops send \`GET /\` over a new connection per request to a unit of two instances of \`bench/apps/service.mjs\`` +
      ` (load average when this part started: ${u.loadAvg.join(' / ')}). Upgrade time is the CLI's wall time: status, the check run of the new code, the exec, and the new code answering as upgraded.` +
      ' For contrast, the way to the same end without it: `launcher down` then `launcher up`.',
    '',
    '| how | times | requests | failed | requests/s | time p50 / p90 / max (ms) | launcher pid kept | service pids kept |',
    '|---|---:|---:|---:|---:|---|---|---|',
    `| upgrade in place | ${p.done} (${p.refused} refused) | ${p.requests} | ${p.failed} | ${p.rps} | ${fmtMs(p.time.p50)} / ${fmtMs(p.p90)} / ${fmtMs(p.time.max)} | ${p.samePid ? 'yes' : 'no'} | ${p.sameServicePids ? 'yes' : 'no'} |`,
    `| down + up | ${d.cycles} | ${d.requests} | ${d.failed} | ${Math.round(d.requests / d.seconds)} | ${fmtMs(d.time.p50)} / – / ${fmtMs(d.time.max)} | no | no |`,
    '',
  ].join('\n');
}
