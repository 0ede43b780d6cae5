// The benchmark driver: `node bench/run.mjs [--quick] [--out DIR] [--peers a,b]
// [--no-install] [--no-soak] [--soak-restarts N] [--note TEXT] [--merge]`. Runs every available peer on
// the same service and machine in one run, prints ratios, and writes
// RESULTS.md, results.json and one SVG timeline per peer into the out folder
// (bench/ for the full run; a fresh temp folder for --quick unless --out).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, ROOT } from './lib/paths.mjs';
import { launcherPeer } from './peers/launcher.mjs';
import { serverStarterPeer } from './peers/server-starter.mjs';
import { pm2Peer, pm2Kill } from './peers/pm2.mjs';
import { naivePeer } from './peers/naive.mjs';
import { benchRestarts } from './restart.mjs';
import { bareNodeRss, launcherFootprint, moduleCosts, pm2Footprint } from './footprint.mjs';
import { perChildCost } from './per-child.mjs';
import { steadyState } from './steady.mjs';
import { cliLatency } from './cli-latency.mjs';
import { soak } from './soak.mjs';
import { logThroughput } from './logs.mjs';
import { acceptSection, benchAccept } from './accept.mjs';
import { benchUpgrade, upgradeSection } from './upgrade.mjs';
import { machineInfo, renderResults, restartTable, goals } from './report.mjs';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    peers: { type: 'string' },
    'no-install': { type: 'boolean', default: false },
    'no-soak': { type: 'boolean', default: false },
    'soak-restarts': { type: 'string' },
    note: { type: 'string' },
    merge: { type: 'boolean', default: false },
  },
});

const quick = flags.quick;
const options = quick
  ? { restarts: 3, cliRestarts: 1, concurrency: 8, steadyMs: 600, gapMs: 300, onDemand: [1, 100], eager: [10], pm2Apps: 10, cliRuns: 5, soakRestarts: 0,
      steadyRounds: 1, steadySeconds: 1, perChild: 20, moduleCosts: false, acceptMs: 1000, upgrades: 3, downUpCycles: 1,
      logs: { seconds: 1, burstBytes: 8 * 2 ** 20, maxSize: 2 ** 20, keep: 2 } }
  : { restarts: 20, cliRestarts: 3, concurrency: 8, steadyMs: 1500, gapMs: 400, onDemand: [1, 100, 1000], eager: [1, 100, 1000], pm2Apps: 100, cliRuns: 21, soakRestarts: 1000,
      steadyRounds: 3, steadySeconds: 5, perChild: 200, moduleCosts: true, acceptMs: 10_000, upgrades: 100, downUpCycles: 3,
      logs: { seconds: 10, burstBytes: 2 ** 30, maxSize: 10 * 2 ** 20, keep: 5 } };
if (flags['no-soak']) options.soakRestarts = 0;
if (flags['soak-restarts']) options.soakRestarts = Number(flags['soak-restarts']);
const outDir = path.resolve(flags.out ?? (quick ? mkdtempSync(path.join(os.tmpdir(), 'launcher-bench-')) : path.join(ROOT, 'bench')));
mkdirSync(outDir, { recursive: true });
if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run \`npm run build\` first (npm run bench does).`);
  process.exit(2);
}

const fmtBytes = (n) => (n >= 2 ** 30 ? `${n / 2 ** 30} GiB` : `${n / 2 ** 20} MiB`);
const log = (...a) => console.log(`[bench +${(performance.now() / 1000).toFixed(1)}s]`, ...a);
const wanted = flags.peers ? new Set(flags.peers.split(',')) : null;
const allPeers = [launcherPeer('overlap'), launcherPeer('stop-first'), serverStarterPeer(), pm2Peer({ install: !flags['no-install'] }), naivePeer()];
const results = {
  command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  machine: machineInfo(),
  note: flags.note,
  options,
  restart: [],
  skipped: [],
};

async function main() {
  log(`out: ${outDir}; ${quick ? 'quick' : 'full'} run; machine: ${results.machine.nproc} CPUs, ${results.machine.cpu}, Node ${results.machine.node}`);
  let pm2Available = false;
  for (const peer of allPeers) {
    if (wanted && !wanted.has(peer.name)) continue;
    const ok = await peer.available();
    if (ok !== true) {
      log(`skipping ${peer.name}: ${ok}`);
      results.skipped.push({ name: peer.name, reason: ok });
      continue;
    }
    if (peer.name === 'pm2') pm2Available = true;
    log(`restart under load: ${peer.label}, ${options.restarts} restarts ...`);
    const r = await benchRestarts(peer, { ...options, cliRestarts: peer.name.startsWith('launcher') ? options.cliRestarts : 0, outDir });
    log(`  ${r.requests} requests, ${r.failed} failed, restart median ${Math.round(r.restarts.map((t) => t.ms).sort((a, b) => a - b)[r.restarts.length >> 1])} ms`);
    results.restart.push(r);
  }
  if (!wanted || wanted.has('steady')) {
    log(`steady state: the service alone vs behind the launcher, ${options.steadyRounds} × ${options.steadySeconds} s each ...`);
    results.steady = await steadyState({ rounds: options.steadyRounds, seconds: options.steadySeconds, concurrency: options.concurrency });
    log(`  ${results.steady.launcher.rps.toFixed(0)} vs ${results.steady.self.rps.toFixed(0)} requests/s (${results.steady.ratio.toFixed(2)}×), launcher CPU ${results.steady.launcher.cpuPct.toFixed(1)}%`);
  }
  if (!wanted || wanted.has('footprint')) {
    log('footprint ...');
    const launcher = [];
    for (const n of options.onDemand) launcher.push(await launcherFootprint(n, 'on-demand'));
    for (const n of options.eager) launcher.push(await launcherFootprint(n, 'eager'));
    results.footprint = {
      bareNodeKiB: await bareNodeRss(),
      launcher,
      pm2: pm2Available ? await pm2Footprint(options.pm2Apps) : null,
      perChild: await perChildCost(options.perChild),
      modules: options.moduleCosts ? await moduleCosts() : null,
    };
  }
  if (!wanted || wanted.has('cli')) {
    log('CLI latency ...');
    results.cli = await cliLatency(options.cliRuns, { withPm2: pm2Available });
  }
  if (!wanted || wanted.has('logs')) {
    log(`logs: a line printer for ${options.logs.seconds} s, then a ${fmtBytes(options.logs.burstBytes)} burst ...`);
    results.logs = await logThroughput(options.logs);
    log(`  ${results.logs.launcherLinesPerSec} vs ${results.logs.selfLinesPerSec} lines/s (${results.logs.ratio.toFixed(2)}×); burst kept ${results.logs.burst.unitBytes} bytes`);
  }
  if (!wanted || wanted.has('accept')) {
    log(`per-connection (accept = true) vs systemd-socket-activate --accept, ${options.acceptMs} ms per run ...`);
    results.accept = await benchAccept({ concurrency: options.concurrency, durationMs: options.acceptMs, log });
  }
  if (!wanted || wanted.has('upgrade')) {
    log(`upgrade: ${options.upgrades} in-place upgrades under load, then ${options.downUpCycles} × down + up ...`);
    results.upgrade = await benchUpgrade({ upgrades: options.upgrades, cycles: options.downUpCycles, concurrency: options.concurrency, log });
  }
  if (options.soakRestarts > 0 && (!wanted || wanted.has('soak'))) {
    log(`soak: ${options.soakRestarts} restarts under load ...`);
    results.soak = await soak({
      restarts: options.soakRestarts,
      concurrency: options.concurrency,
      onProgress: (i, load) => i % 100 === 0 && log(`  soak ${i}/${options.soakRestarts}: ${load.ok} ok, ${load.failed} failed`),
    });
  }
  results.machine.loadAvgEnd = os.loadavg().map((x) => +x.toFixed(2));
  if (flags.merge) mergePrevious(results);
  writeFileSync(path.join(outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(path.join(outDir, 'RESULTS.md'), renderResults(results) + acceptSection(results.accept) + upgradeSection(results.upgrade));
  console.log('\n' + restartTable(results.restart) + '\n');
  for (const g of goals(results)) console.log(`${g.ok === undefined ? 'n/a ' : g.ok ? 'PASS' : 'FAIL'}  ${g.goal}: ${g.measured}`);
  log(`wrote ${path.join(outDir, 'RESULTS.md')}`);
}

/**
 * --merge: sections not run this time (and the note, unless --note is given) are taken
 * from the results.json already in the out folder, so one section can be re-measured
 * without rerunning the rest.
 */
function mergePrevious(r) {
  const file = path.join(outDir, 'results.json');
  if (!existsSync(file)) return;
  const old = JSON.parse(readFileSync(file, 'utf8'));
  if (r.restart.length === 0 && old.restart) {
    r.restart = old.restart;
    r.skipped = old.skipped ?? [];
  }
  for (const key of ['steady', 'footprint', 'cli', 'soak', 'logs', 'accept', 'upgrade']) if (r[key] === undefined && old[key] !== undefined) r[key] = old[key];
  if (r.note === undefined && old.note !== undefined) r.note = old.note;
  r.command += ` (merged into the results of \`${old.command}\` from ${old.machine?.date ?? 'an earlier run'})`;
}

try {
  await main();
} finally {
  if (allPeers.some((p) => p.name === 'pm2') && results.skipped.every((s) => s.name !== 'pm2')) await pm2Kill();
}
