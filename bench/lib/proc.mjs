// Process plumbing for the benchmarks: spawning with captured output, waiting
// with deadlines, reading a process's RSS and open-fd count from /proc.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';

/** Resolves after `ms` (used only to pace polling, never as a synchronisation point). */
export const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` every `everyMs` until it returns something other than
 * undefined/false, and resolves with that; rejects naming `what` after `timeoutMs`.
 */
export async function waitFor(probe, { timeoutMs = 15_000, everyMs = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError}` : ''}`);
    await pause(everyMs);
  }
}

/** A loopback TCP port the OS reported free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `cmd args` with output captured into `lines` (stdout and stderr),
 * returning { child, lines, exited, waitForLine(re) }. `exited` resolves with
 * the exit code (or 128+signal).
 */
export function start(cmd, args, { env = process.env, cwd, detached = false } = {}) {
  const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached });
  const lines = [];
  const waiters = [];
  let tail = '';
  const onData = (chunk) => {
    const parts = (tail + chunk.toString()).split('\n');
    tail = parts.pop();
    for (const line of parts) {
      if (lines.length < 5000) lines.push(line);
      for (const w of [...waiters]) if (w.re.test(line)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(line);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? 15 : 0))));
  const waitForLine = (re, timeoutMs = 15_000) => {
    const seen = lines.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} from ${cmd}:\n${lines.slice(-20).join('\n')}`)), timeoutMs);
      waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      exited.then((code) => reject(new Error(`${cmd} exited (${code}) before printing ${re}:\n${lines.slice(-20).join('\n')}`)));
    });
  };
  return { child, lines, exited, waitForLine };
}

/** Runs a command to completion; resolves { code, stdout, stderr, ms } (never rejects on exit code). */
export function run(cmd, args, { env = process.env, cwd, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => (clearTimeout(timer), reject(e)));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** True when `pid` is alive (signal 0 succeeds). */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resident set size of `pid` in KiB (VmRSS), or NaN when gone. */
export function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Number of open fds of `pid` (entries in /proc/pid/fd), or NaN when gone. */
export function fdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

/** Pids of `pid`'s direct children (from /proc/<pid>/task/<pid>/children). */
export function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** One GET on a fresh connection; resolves the status code, rejects on any error. */
export function getStatus(port, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Waits until the service on `port` answers 200. */
export const waitForHttp = (port, timeoutMs = 20_000) =>
  waitFor(async () => (await getStatus(port)) === 200, { timeoutMs, what: `HTTP 200 on port ${port}` });

/** Stops a spawned process: `signal`, then SIGKILL after `graceMs`; resolves when it exited. */
export async function stopProcess(handle, signal = 'SIGTERM', graceMs = 10_000) {
  if (handle.child.exitCode !== null || handle.child.signalCode !== null) return handle.exited;
  handle.child.kill(signal);
  const timer = setTimeout(() => handle.child.kill('SIGKILL'), graceMs);
  const code = await handle.exited;
  clearTimeout(timer);
  return code;
}

/** The anonymous (heap, stacks; not file-backed) part of `pid`'s RSS in KiB, or NaN when gone. */
export function anonKiB(pid) {
  try {
    const m = /^Anonymous:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system) `pid` has used so far, in ms (from /proc/<pid>/stat; clock ticks of 10 ms). */
export function cpuMs(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}
