// Connections per second through a per-connection unit (accept = true): the
// launcher accepting and spawning `cat` (stdio = "socket") for each connection,
// against systemd's own `systemd-socket-activate --accept --inetd` running the
// same `cat`, in the same run, with the same client load: N loops of connect,
// write a line, read it back, close. Every connection that fails is counted.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CLI } from './lib/paths.mjs';
import { freePort, start, stopProcess, waitFor } from './lib/proc.mjs';
import { fmtMs, latencySummary } from './lib/stats.mjs';

const SOCKET_ACTIVATE = '/usr/bin/systemd-socket-activate';
const CAT = '/bin/cat';

/** One connection: connect, send a line, read it back, close. Resolves its ms; rejects on any failure. */
function echoOnce(port, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = net.connect({ host: '127.0.0.1', port });
    let got = '';
    const timer = setTimeout(() => socket.destroy(new Error('timed out')), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('ping\n'));
    socket.on('data', (d) => {
      got += d;
      if (got.includes('\n')) socket.end();
    });
    socket.on('error', (e) => (clearTimeout(timer), reject(e)));
    socket.on('close', () => {
      clearTimeout(timer);
      if (got === 'ping\n') resolve(performance.now() - t0);
      else reject(new Error(`echo got ${JSON.stringify(got)}`));
    });
  });
}

/** `concurrency` loops of echoOnce for `durationMs`; { connections, failed, perSecond, latency }. */
async function drive(port, { concurrency, durationMs }) {
  const latencies = [];
  let failed = 0;
  const errors = new Map();
  const t0 = performance.now();
  const loop = async () => {
    while (performance.now() - t0 < durationMs) {
      try {
        latencies.push(await echoOnce(port));
      } catch (error) {
        failed++;
        errors.set(error.code ?? error.message, (errors.get(error.code ?? error.message) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = performance.now() - t0;
  return {
    connections: latencies.length,
    failed,
    errors: Object.fromEntries(errors),
    seconds: +(elapsed / 1000).toFixed(2),
    perSecond: Math.round(latencies.length / (elapsed / 1000)),
    latency: latencySummary(latencies),
  };
}

async function launcherTarget(dir, port) {
  const unitsDir = path.join(dir, 'units');
  mkdirSync(unitsDir, { recursive: true });
  writeFileSync(path.join(unitsDir, 'echo.toml'), ['[service]', `exec = ["${CAT}"]`, 'stdio = "socket"', '[[socket]]', `listen = "127.0.0.1:${port}"`, 'accept = true', 'max_connections = 256', ''].join('\n'));
  const proc = start(process.execPath, [CLI, 'up', '--units', unitsDir, '--control', path.join(dir, 'ctl', 'control.sock')], { cwd: dir });
  await proc.waitForLine(/units? loaded/, 60_000);
  return proc;
}

async function socketActivateTarget(port) {
  const proc = start(SOCKET_ACTIVATE, ['--accept', '--inetd', '-l', `127.0.0.1:${port}`, CAT]);
  await proc.waitForLine(/Listening on/, 20_000);
  return proc;
}

/**
 * Runs both targets one after the other (launcher first, then systemd-socket-activate,
 * then the launcher again so drift in the machine's load shows). Returns the results.
 */
export async function benchAccept({ concurrency = 8, durationMs = 5000, log = () => {} } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'launcher-bench-accept-'));
  const out = { concurrency, durationMs, program: 'cat (inetd style: the connection is stdin/stdout)', loadAvg: os.loadavg().map((x) => +x.toFixed(2)), runs: [], skipped: null };
  const haveActivate = existsSync(SOCKET_ACTIVATE);
  if (!haveActivate) out.skipped = `${SOCKET_ACTIVATE} not found (Debian package systemd)`;
  const targets = [
    ['launcher', (port) => launcherTarget(path.join(dir, 'a'), port)],
    ...(haveActivate ? [['systemd-socket-activate', (port) => socketActivateTarget(port)]] : []),
    ['launcher', (port) => launcherTarget(path.join(dir, 'b'), port)],
  ];
  for (const [name, begin] of targets) {
    const port = await freePort();
    const proc = await begin(port);
    try {
      await waitFor(async () => (await echoOnce(port).then(() => true, () => false)) || undefined, { what: `${name} echoing on ${port}` });
      await drive(port, { concurrency, durationMs: Math.min(500, durationMs / 4) }); // warm-up
      const r = await drive(port, { concurrency, durationMs });
      log(`  accept: ${name}: ${r.perSecond} connections/s, ${r.failed} failed, p50 ${fmtMs(r.latency.p50)} ms`);
      out.runs.push({ name, ...r });
    } finally {
      await stopProcess(proc, 'SIGTERM', 10_000);
    }
  }
  return out;
}

/** The RESULTS.md section for benchAccept's results. */
export function acceptSection(a) {
  if (!a) return '';
  const lines = ['## Per-connection services (accept = true)', ''];
  lines.push(`${a.concurrency} client loops for ${a.durationMs / 1000} s per run, each connection: connect, write \`ping\\n\`, read it back, close. ` +
    `Program: ${a.program}. The launcher runs it from a unit with \`accept = true\`, \`stdio = "socket"\`; systemd-socket-activate as ` +
    '`systemd-socket-activate --accept --inetd -l 127.0.0.1:PORT /bin/cat`. Runs are in the order listed (launcher before and after, to show drift)' +
    (a.loadAvg ? `; load average when this part started: ${a.loadAvg.join(' / ')}.` : '.'), '');
  if (a.skipped) lines.push(`systemd-socket-activate skipped: ${a.skipped}.`, '');
  lines.push('| run | connections/s | connections | failed | latency p50 / p99 / max (ms) |', '|---|---:|---:|---:|---|');
  for (const r of a.runs) lines.push(`| ${r.name} | ${r.perSecond} | ${r.connections} | ${r.failed} | ${fmtMs(r.latency.p50)} / ${fmtMs(r.latency.p99)} / ${fmtMs(r.latency.max)} |`);
  lines.push('');
  return lines.join('\n');
}
