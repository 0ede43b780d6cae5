// Crash recovery. A launcher killed by SIGKILL or the OOM killer leaves its
// services running on its sockets. So the launcher keeps a small file beside its
// control socket (`<control>.state`) naming its generation: its own pid, every
// service pid, each with its /proc start time (a pid counts only if that matches:
// a recycled pid never does), and for each socket which fd the services hold it
// at and its inode. The next `up` with the same control socket reads it, takes
// the very same open sockets from a live service with pidfd_getfd (so no client
// is refused), starts its own services, and then stops the old ones
// (stop_signal, then SIGKILL after stop_timeout). Where the kernel does not let
// it take them (ptrace rules), it stops the old generation first and says so.
import { readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { close, errnoName } from '../sys/libc.js';
import { pidfdGetfd, pidfdOpen, processStartTime } from '../sys/reexec.js';
import { readProcStat } from '../sys/process.js';
import { bindKey, LISTEN_FDS_START } from '../sockets/index.js';
import type { Launcher } from './launcher.js';

const FORMAT = 'socket-launcher/generation';
const VERSION = 1;

interface ProcessRef {
  readonly pid: number;
  /** Clock ticks since boot (field 22 of /proc/PID/stat). */
  readonly startTime: number;
}

interface GenerationUnit {
  readonly name: string;
  readonly stopSignal: NodeJS.Signals;
  readonly stopTimeoutMs: number;
  /** Each socket as its services hold it: bindKey, fd number in the service, socket inode. */
  readonly sockets: readonly { readonly key: string; readonly listen: string; readonly fd: number; readonly inode: string }[];
  /** Its live service processes (each the leader of its own process group). */
  readonly processes: readonly ProcessRef[];
}

interface GenerationFile {
  readonly format: typeof FORMAT;
  readonly version: typeof VERSION;
  readonly launcher: ProcessRef;
  readonly units: readonly GenerationUnit[];
  /** Processes of an earlier generation this launcher has not finished stopping yet. */
  readonly previous: readonly (ProcessRef & { readonly unit: string; readonly stopSignal: NodeJS.Signals; readonly stopTimeoutMs: number })[];
}

/** The state file of the launcher whose control socket is `control`. */
export function generationPath(control: string): string {
  return `${control}.state`;
}

/** Whether `ref` is still the same live process (not a zombie, not a recycled pid). */
function alive(ref: ProcessRef): boolean {
  if (processStartTime(ref.pid) !== ref.startTime) return false;
  return readProcStat(ref.pid)?.state !== 'Z';
}

function inodeOf(fd: number, pid: number | 'self' = 'self'): string | null {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return null;
  }
}

/**
 * The shortest time between two writes while transitions keep coming. Starting 1000
 * units is thousands of transitions; writing the whole file (and, uncached, reading
 * /proc/PID/stat of every pid) for each turn of the event loop that had one cost ~1 s of
 * the launcher's CPU during such a start (measured: bench/FOOTPRINT.md). A crash inside the
 * window loses at most the pids started since the last write: the next launcher cannot stop
 * those (they keep running beside it, as with no state file at all), and never signals a
 * wrong process, since each recorded pid carries its start time.
 */
export const WRITE_INTERVAL_MS = 100;

/**
 * Writes the launcher's generation file whenever its processes or sockets change,
 * atomically (a temporary file renamed over it), and removes it at a clean exit. A
 * change after a quiet spell is written on the next turn of the event loop; while
 * changes keep coming, at most once per WRITE_INTERVAL_MS.
 */
export class GenerationWriter {
  #scheduled = false;
  #closed = false;
  #lastWrite = -Infinity;
  /** Start time of each pid in the last file: read from /proc once per process, not once per write. */
  #startTimes = new Map<number, number>();
  /** Each socket's inode (`socket:[N]`); a BoundSocket keeps its fd for its whole life. */
  readonly #inodes = new WeakMap<object, string>();
  /** Processes of the previous generation still being stopped. */
  previous: GenerationFile['previous'] = [];

  constructor(private readonly file: string, private readonly launcher: Launcher, private readonly warn: (message: string) => void) {}

  schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    const run = (): void => {
      this.#scheduled = false;
      this.writeNow();
    };
    const wait = this.#lastWrite + WRITE_INTERVAL_MS - performance.now();
    if (wait <= 0) setImmediate(run);
    else setTimeout(run, wait).unref();
  }

  writeNow(): void {
    if (this.#closed) return;
    const self = processStartTime(process.pid);
    if (self === null) return;
    const known = this.#startTimes;
    const seen = new Map<number, number>();
    // A pid is read again only once it has left the file: one reused within a single
    // interval (pid_max pids later) would keep its old start time, so the next launcher
    // would leave that process alone rather than stop it.
    const startTimeOf = (pid: number): number | null => {
      const startTime = known.get(pid) ?? processStartTime(pid);
      if (startTime !== null) seen.set(pid, startTime);
      return startTime;
    };
    const units: GenerationUnit[] = this.launcher.runtimes().map((r) => {
      const unit = r.supervisor.unit;
      const processes = r.supervisor.status().instances.flatMap((i) => {
        if (i.pid === null) return [];
        const startTime = startTimeOf(i.pid);
        return startTime === null ? [] : [{ pid: i.pid, startTime }];
      });
      return {
        name: unit.name,
        stopSignal: unit.service.stopSignal,
        stopTimeoutMs: unit.service.stopTimeoutMs,
        // Services get the unit's sockets at fds 3, 4, … in file order; a per-connection unit's processes hold none.
        sockets: r.sockets.flatMap((s, k) => {
          const inode = this.#inodeOf(s);
          return inode === null || s.spec.accept ? [] : [{ key: bindKey(s.spec), listen: s.spec.listenText, fd: LISTEN_FDS_START + k, inode }];
        }),
        processes,
      };
    });
    this.#startTimes = seen;
    this.#lastWrite = performance.now();
    const state: GenerationFile = { format: FORMAT, version: VERSION, launcher: { pid: process.pid, startTime: self }, units, previous: this.previous.filter(alive) };
    try {
      writeFileSync(`${this.file}.tmp`, JSON.stringify(state), { mode: 0o600 });
      renameSync(`${this.file}.tmp`, this.file);
    } catch (error) {
      this.warn(`cannot write ${this.file} (${(error as NodeJS.ErrnoException).code ?? String(error)}); a crash of this launcher could not be recovered from`);
    }
  }

  #inodeOf(socket: { readonly fd: number }): string | null {
    const cached = this.#inodes.get(socket);
    if (cached !== undefined) return cached;
    const inode = inodeOf(socket.fd);
    if (inode !== null) this.#inodes.set(socket, inode);
    return inode;
  }

  /** A clean exit: every service is stopped, nothing to recover. */
  remove(): void {
    this.#closed = true;
    rmSync(this.file, { force: true });
  }
}

/** What the next launcher found of a dead one: its live processes, and the sockets they hold. */
export class OldGeneration {
  private constructor(
    private readonly state: GenerationFile,
    /** Live processes per unit (start time checked). */
    private readonly live: Map<string, ProcessRef[]>,
  ) {}

  /**
   * The dead launcher's generation recorded in `file`, if any of its processes still
   * lives; null when there is none (the file is then removed) or when that launcher
   * itself still runs (nothing is touched: `log` says so).
   */
  static find(file: string, log: (level: 'info' | 'warn', message: string) => void): OldGeneration | null {
    let state: GenerationFile;
    try {
      state = JSON.parse(readFileSync(file, 'utf8')) as GenerationFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log('warn', `ignoring ${file}: ${(error as Error).message}`);
      return null;
    }
    if (state.format !== FORMAT || state.version !== VERSION || !Array.isArray(state.units)) {
      log('warn', `ignoring ${file}: not a generation file this launcher reads`);
      return null;
    }
    if (state.launcher.pid !== process.pid && alive(state.launcher)) {
      log('warn', `${file}: its launcher (pid ${state.launcher.pid}) still runs; leaving its processes alone`);
      return null;
    }
    const live = new Map<string, ProcessRef[]>();
    for (const u of state.units) {
      const procs = u.processes.filter(alive);
      if (procs.length) live.set(u.name, procs);
    }
    const previous = (state.previous ?? []).filter(alive);
    if (live.size === 0 && previous.length === 0) {
      rmSync(file, { force: true });
      return null;
    }
    return new OldGeneration({ ...state, previous }, live);
  }

  /** The pids found alive, for the log line. */
  describe(): string {
    const parts = [...this.live].map(([unit, procs]) => `${unit}[${procs.map((p) => p.pid).join(',')}]`);
    if (this.state.previous.length) parts.push(`older: ${this.state.previous.map((p) => p.pid).join(',')}`);
    return `launcher pid ${this.state.launcher.pid} is gone; its processes ${parts.join(' ')} still run`;
  }

  /**
   * Takes every socket a live old service holds: a map bindKey → our copy of the same
   * open socket (close-on-exec). `refused` lists errnos that stopped a take (EPERM:
   * ptrace rules forbid it), so the caller can stop the old generation first instead.
   */
  takeSockets(): { taken: Map<string, number>; refused: string[] } {
    const taken = new Map<string, number>();
    const refused: string[] = [];
    for (const u of this.state.units) {
      const procs = this.live.get(u.name) ?? [];
      for (const s of u.sockets) {
        if (taken.has(s.key)) continue;
        for (const p of procs) {
          const fd = takeFd(p, s.fd, s.inode);
          if (typeof fd === 'number') {
            taken.set(s.key, fd);
            break;
          }
          if (fd.errno !== 'moved') refused.push(`${u.name} ${s.listen} from pid ${p.pid}: ${fd.errno}`);
        }
      }
    }
    return { taken, refused };
  }

  /** Every live old process with how to stop it. */
  processes(): (ProcessRef & { unit: string; stopSignal: NodeJS.Signals; stopTimeoutMs: number })[] {
    const out = this.state.units.flatMap((u) => (this.live.get(u.name) ?? []).map((p) => ({ ...p, unit: u.name, stopSignal: u.stopSignal, stopTimeoutMs: u.stopTimeoutMs })));
    return [...out, ...this.state.previous];
  }
}

/** fd `fd` of process `p` if it is still the socket with `inode`; else why not. */
function takeFd(p: ProcessRef, fd: number, inode: string): number | { errno: string } {
  if (!alive(p)) return { errno: 'moved' };
  const pidfd = pidfdOpen(p.pid);
  if (pidfd < 0) return { errno: `pidfd_open: ${errnoName(-pidfd)}` };
  try {
    // The start time again, now that the pidfd pins the process: the pid cannot be recycled under us any more.
    if (!alive(p)) return { errno: 'moved' };
    const copy = pidfdGetfd(pidfd, fd);
    if (copy < 0) return { errno: errnoName(-copy) };
    if (inodeOf(copy) !== inode) {
      close(copy);
      return { errno: 'moved' };
    }
    return copy;
  } finally {
    close(pidfd);
  }
}

/**
 * Stops `procs` (another generation's services, not our children) as their units say:
 * stop_signal to each one's process group, SIGKILL after stop_timeout. A process is
 * signalled only while its start time still matches. Resolves true when none needed SIGKILL.
 */
export async function stopGeneration(procs: readonly (ProcessRef & { unit: string; stopSignal: NodeJS.Signals; stopTimeoutMs: number })[], log: (message: string) => void): Promise<boolean> {
  const signal = (p: ProcessRef, sig: NodeJS.Signals): void => {
    if (!alive(p)) return;
    // A service leads its own process group (the launcher starts each in its own session).
    const group = readProcStat(p.pid)?.pgrp === p.pid;
    try {
      process.kill(group ? -p.pid : p.pid, sig);
    } catch {
      // gone meanwhile
    }
  };
  let clean = true;
  await Promise.all(
    procs.map(async (p) => {
      if (!alive(p)) return;
      log(`stopping ${p.unit}[${p.pid}] of the previous generation (${p.stopSignal})`);
      signal(p, p.stopSignal);
      const deadline = Date.now() + p.stopTimeoutMs;
      while (alive(p) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (alive(p)) {
        clean = false;
        log(`${p.unit}[${p.pid}] of the previous generation outlived its stop_timeout; SIGKILL`);
        signal(p, 'SIGKILL');
        while (alive(p)) await new Promise((r) => setTimeout(r, 20));
      }
    }),
  );
  return clean;
}
