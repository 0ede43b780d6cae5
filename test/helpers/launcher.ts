// Drives the real, built CLI (`node dist/cmd/launcher.js`) for end-to-end tests:
// a launcher on a temp unit directory and control socket, its output captured
// line by line, verbs run against it, and cleanup that leaves nothing behind.
import { execa, type ResultPromise } from 'execa';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StatusReply, UnitStatusReply } from '../../src/control/replies.js';
import { makeTmpDir } from './tmp.js';
import { waitFor, withDeadline } from './wait.js';
import { collectLines } from './output-lines.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The package's bin (a CommonJS entry that sizes the threadpool, then loads dist/cmd/launcher.js). */
export const CLI = path.join(ROOT, 'dist/cmd/launcher.cjs');
export const FIXTURES = path.join(ROOT, 'test/fixtures');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `launcher ARGS` to completion (never rejects on a non-zero exit). */
export async function cli(args: string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const r = await execa(process.execPath, [CLI, ...args], {
    reject: false,
    env: options.env ?? {},
    cwd: options.cwd ?? ROOT,
    timeout: options.timeoutMs ?? 60_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export interface RunningLauncher {
  readonly dir: string;
  readonly unitsDir: string;
  readonly control: string;
  readonly pid: number;
  /** Every line printed so far (stdout and stderr). */
  readonly lines: string[];
  /** Resolves with the first line matching `pattern` (already printed or future). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** `launcher VERB ...` against this launcher's control socket. */
  cli(args: string[], timeoutMs?: number): Promise<CliResult>;
  /** Signal the launcher and wait for it to exit; resolves with its exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number>;
  readonly exited: Promise<number>;
}

/** Writes unit files (name → TOML text) and any extra files into a fresh dir. */
export function makeUnitDir(units: Record<string, string>, files: Record<string, string> = {}): { dir: string; unitsDir: string; cleanup: () => void } {
  const tmp = makeTmpDir('launcher-e2e-');
  const unitsDir = path.join(tmp.dir, 'units');
  mkdirSync(unitsDir);
  for (const [name, text] of Object.entries(units)) writeFileSync(path.join(unitsDir, `${name}.toml`), text);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(unitsDir, name), text);
  return { ...tmp, unitsDir };
}

const running = new Set<RunningLauncher>();

/**
 * Starts `launcher up` (or `args` as given) with a private control socket and
 * waits for the "units loaded" line. Register `cleanupLaunchers` in afterEach.
 */
export async function startLauncher(
  unitsDir: string,
  options: { args?: string[]; env?: Record<string, string>; wait?: RegExp; command?: string[]; bin?: string; cli?: string } = {},
): Promise<RunningLauncher> {
  const dir = path.dirname(unitsDir);
  const control = path.join(dir, 'ctl', 'control.sock');
  const args = options.command ?? ['up', '--units', unitsDir, '--control', control, ...(options.args ?? [])];
  // `bin`: an installed `launcher` executable, run as a command (its #! line), instead of this clone's CLI.
  // `cli`: another copy of the CLI (an install an upgrade test changes under the running launcher).
  const [file, argv] = options.bin ? [options.bin, args] : [process.execPath, [options.cli ?? CLI, ...args]];
  const child: ResultPromise = execa(file, argv, {
    reject: false,
    buffer: false,
    env: { ...options.env },
    cwd: dir,
    stdin: 'ignore',
  });
  const { lines, waitForLine } = collectLines([child.stdout, child.stderr]);
  const exited = child.then((r) => r.exitCode ?? 128 + 9);
  const launcher: RunningLauncher = {
    dir,
    unitsDir,
    control,
    pid: child.pid ?? -1,
    lines,
    waitForLine,
    exited,
    cli: (verbArgs, timeoutMs) => cli([...verbArgs, '--control', control], timeoutMs ? { timeoutMs } : {}),
    stop: async (signal = 'SIGTERM', timeoutMs = 20_000) => {
      child.kill(signal);
      return withDeadline(exited, timeoutMs, 'launcher exit');
    },
  };
  running.add(launcher);
  void exited.then(() => running.delete(launcher));
  await Promise.race([
    waitForLine(options.wait ?? /units? loaded/),
    exited.then((code) => {
      throw new Error(`launcher exited with ${code} before it was up:\n${lines.join('\n')}`);
    }),
  ]);
  return launcher;
}

/** SIGKILL-free cleanup: SIGTERM every launcher still running and wait for it. */
export async function cleanupLaunchers(): Promise<void> {
  await Promise.all(
    [...running].map(async (l) => {
      try {
        await l.stop('SIGTERM', 20_000);
      } catch {
        // It did not stop in time (seen once under heavy load): its services must not outlive the
        // test either, and a SIGKILLed launcher leaves them to init. Each leads its own process group.
        let services: number[] = [];
        try {
          services = childrenOf(l.pid);
        } catch {
          // it is gone after all
        }
        for (const pid of services) {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
        try {
          process.kill(l.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
        console.warn(`launcher ${l.pid} did not stop within 20 s of SIGTERM: killed it and the process groups of its children ${services.join(', ')}`);
      }
    }),
  );
}

/** GET http://host:port/path with a fresh connection; resolves { status, body } or rejects. */
export async function httpGet(port: number, urlPath = '/', host = '127.0.0.1', timeoutMs = 5000): Promise<{ status: number; body: string }> {
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: urlPath, agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
}

/** Waits until GET succeeds with status 200; returns the body. */
export function waitForHttp(port: number, urlPath = '/', timeoutMs = 15_000): Promise<string> {
  return waitFor(
    async () => {
      const r = await httpGet(port, urlPath);
      return r.status === 200 ? r.body : undefined;
    },
    { timeoutMs, what: `HTTP 200 on port ${port}` },
  );
}

/** `launcher status [UNIT...] --json` of a running launcher, parsed (throws with the output when the verb fails). */
export async function statusJson(launcher: RunningLauncher, ...units: string[]): Promise<StatusReply> {
  const r = await launcher.cli(['status', ...units, '--json']);
  if (r.exitCode !== 0) throw new Error(`status --json exited ${r.exitCode}: ${r.stderr}`);
  return JSON.parse(r.stdout) as StatusReply;
}

/** The status of one unit (throws unless the reply holds exactly that unit). */
export async function unitStatus(launcher: RunningLauncher, unit: string): Promise<UnitStatusReply> {
  const { units } = await statusJson(launcher, unit);
  if (units.length !== 1 || units[0]?.name !== unit) throw new Error(`status ${unit} replied with ${JSON.stringify(units)}`);
  return units[0];
}

/** Waits until `unit` is in `state` (status over the control socket); returns its status. */
export function waitForState(launcher: RunningLauncher, unit: string, state: string, timeoutMs = 20_000): Promise<UnitStatusReply> {
  return waitFor(
    async () => {
      const s = await unitStatus(launcher, unit);
      return s.state === state ? s : undefined;
    },
    { timeoutMs, intervalMs: 50, what: `${unit} to be ${state}` },
  );
}

/**
 * Waits until every unit of `launcher` is running (a ready = "started" child counts as ready
 * only after ready_after): operations asked for during a unit's first start are refused as busy.
 */
export function waitForAllRunning(launcher: RunningLauncher, timeoutMs = 20_000): Promise<StatusReply> {
  return waitFor(
    async () => {
      const s = await statusJson(launcher);
      return s.units.every((u) => u.state === 'running') ? s : undefined;
    },
    { timeoutMs, intervalMs: 50, what: 'every unit running' },
  );
}

/** True if a TCP connect to 127.0.0.1:port succeeds (a launcher's backlog completes it), false if refused. */
export function tcpConnects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** The pids of `pid`'s direct children, from /proc/<pid>/task/<tid>/children (every thread's). */
export function childrenOf(pid: number): number[] {
  const tasks = readdirSync(`/proc/${pid}/task`);
  return tasks.flatMap((tid) => {
    try {
      return readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return []; // the thread ended between readdir and read
    }
  });
}
