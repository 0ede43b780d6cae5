// Log throughput and bounds (issue 12): a service printing short lines as fast as
// it can, (a) under `launcher up --log-dir` with the launcher's stdout at /dev/null
// and (b) writing to a file itself; lines/s ratio (goal >= 0.5), launcher CPU per
// 100k lines, launcher RSS before/after; then a burst of `burstBytes` checks that
// the log folder stays within (log-keep + 1) x log-max-size per unit.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, ROOT } from './lib/paths.mjs';
import { waitFor } from './lib/proc.mjs';

const PRINTER = path.join(ROOT, 'bench/apps/line-printer.mjs');
const ticks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'latin1').slice(readFileSync(`/proc/${pid}/stat`, 'latin1').lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
};
const rssKiB = (pid) => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? 0);
const dirBytes = (dir) => readdirSync(dir).reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);

/** Runs the printer under the launcher; resolves with its result and the launcher's costs. */
async function underLauncher(work, printerArgs, { maxSize, keep }) {
  const units = path.join(work, 'units');
  const logs = path.join(work, 'logs');
  const go = path.join(work, 'go');
  const result = path.join(work, 'result.json');
  mkdirSync(units, { recursive: true });
  rmSync(logs, { recursive: true, force: true });
  rmSync(result, { force: true });
  rmSync(go, { force: true });
  execFileSync('mkfifo', [go]);
  writeFileSync(path.join(units, 'printer.toml'), `[service]\nexec = ${JSON.stringify([process.execPath, PRINTER, go, result, ...printerArgs])}\nrestart = "no"\n`);
  const control = path.join(work, 'control.sock');
  const up = spawn(process.execPath, [CLI, 'up', '--units', units, '--control', control, '--log-dir', logs, '--log-max-size', String(maxSize), '--log-keep', String(keep)], { stdio: 'ignore' });
  const exited = new Promise((resolve) => up.once('exit', resolve));
  try {
    await waitFor(() => { try { return statSync(control).isSocket(); } catch { return false; } }, { what: 'the launcher\'s control socket' });
    await waitFor(() => { try { return readFileSync(path.join(logs, 'printer.log'), 'utf8').includes('running'); } catch { return false; } }, { what: 'the printer to run' });
    const rssBefore = rssKiB(up.pid);
    const ticksBefore = ticks(up.pid);
    writeFileSync(go, 'go\n');
    const printed = await waitFor(() => { try { return JSON.parse(readFileSync(result, 'utf8')); } catch { return undefined; } }, { timeoutMs: 600_000, everyMs: 100, what: 'the printer to finish' });
    // The launcher is done once the last line is in the file (or it stopped dropping).
    await waitFor(() => { try { return readFileSync(path.join(logs, 'printer.log'), 'utf8').includes(`line ${printed.lines - 1} `); } catch { return false; } }, { timeoutMs: 120_000, everyMs: 100, what: 'the last line in printer.log' }).catch(() => undefined);
    const cpuSeconds = (ticks(up.pid) - ticksBefore) / 100;
    const rssAfter = rssKiB(up.pid);
    const files = readdirSync(logs).filter((f) => f.startsWith('printer.log'));
    const unitBytes = files.reduce((sum, f) => sum + statSync(path.join(logs, f)).size, 0);
    return { ...printed, cpuSeconds, rssBeforeKiB: rssBefore, rssAfterKiB: rssAfter, unitBytes, files: files.length, logDirBytes: dirBytes(logs) };
  } finally {
    up.kill('SIGTERM');
    await exited;
  }
}

/** The same printer writing to a file itself (no launcher in the way). */
async function selfWriting(work, printerArgs) {
  const go = path.join(work, 'go-self');
  const result = path.join(work, 'result-self.json');
  const file = path.join(work, 'self.log');
  rmSync(go, { force: true });
  rmSync(result, { force: true });
  rmSync(file, { force: true });
  execFileSync('mkfifo', [go]);
  const child = spawn(process.execPath, [PRINTER, go, result, ...printerArgs, '--to', file], { stdio: 'ignore' });
  try {
    writeFileSync(go, 'go\n');
    return await waitFor(() => { try { return JSON.parse(readFileSync(result, 'utf8')); } catch { return undefined; } }, { timeoutMs: 600_000, everyMs: 100, what: 'the self-writing printer' });
  } finally {
    child.kill('SIGTERM');
    rmSync(file, { force: true });
  }
}

/**
 * The log benchmark. `seconds`: how long the printer runs in each setting; `burstBytes`,
 * `maxSize`, `keep`: the disk-bound run (the full bench: 1 GB, 10 MiB, 5).
 */
export async function logThroughput({ seconds, burstBytes, maxSize, keep }) {
  const work = mkdtempSync(path.join(os.tmpdir(), 'launcher-bench-logs-'));
  try {
    const ms = String(seconds * 1000);
    const launcher = await underLauncher(work, ['--ms', ms], { maxSize: 10 * 1024 * 1024, keep: 5 });
    const self = await selfWriting(work, ['--ms', ms]);
    const launcherRate = launcher.lines / (launcher.ms / 1000);
    const selfRate = self.lines / (self.ms / 1000);
    const burst = await underLauncher(work, ['--bytes', String(burstBytes)], { maxSize, keep });
    return {
      seconds,
      launcherLinesPerSec: Math.round(launcherRate),
      selfLinesPerSec: Math.round(selfRate),
      ratio: launcherRate / selfRate,
      cpuMsPer100kLines: (launcher.cpuSeconds * 1000 * 100_000) / launcher.lines,
      rssBeforeKiB: launcher.rssBeforeKiB,
      rssAfterKiB: launcher.rssAfterKiB,
      burst: { bytes: burst.bytes, lines: burst.lines, maxSize, keep, unitBytes: burst.unitBytes, files: burst.files, boundBytes: (keep + 1) * maxSize, rssAfterKiB: burst.rssAfterKiB },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
