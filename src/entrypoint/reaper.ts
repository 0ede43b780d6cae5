// PID 1 / subreaper duty: reap orphaned descendants that were re-parented to the
// launcher, without ever reaping a child that libuv (execa) spawned and waits for.
// libuv calls waitpid(pid) only for its own pids on SIGCHLD; a blind waitpid(-1)
// here would steal those exits and leave execa promises hanging forever. So the
// reaper lists zombie children from /proc, skips every pid the owner claims, and
// reaps the rest one pid at a time with waitpid(pid, WNOHANG).
import { waitpidNoHang, zombieChildPids, type WaitResult } from '../sys/process.js';
import { errnoName } from '../sys/errno.js';
import { describeExit } from '../supervisor/policy.js';

export interface ReaperOptions {
  /**
   * True for every pid the launcher spawned itself (libuv/execa will reap it).
   * Must claim a pid from the moment it is spawned (record `subprocess.pid`
   * synchronously, before yielding to the event loop) until its exit event has fired.
   */
  isOwnChild: (pid: number) => boolean;
  /** Periodic sweep in case a SIGCHLD was coalesced or missed; default 1000 ms. */
  sweepIntervalMs?: number;
  /**
   * Defence in depth for children spawned outside `isOwnChild`'s knowledge: a
   * zombie is reaped only once it has been seen in an earlier sweep at least this
   * long ago (libuv reaps its own on the very SIGCHLD, so they never get that old).
   * Default 0: reap at first sight.
   */
  minZombieAgeMs?: number;
  /** One line per reaped orphan (e.g. for debug logs); default silent. */
  log?: (message: string) => void;
  /**
   * Called with every process reaped; returns true when it was a service adopted across an
   * in-place upgrade (its exit is an event then, not an orphan's end).
   */
  onReaped?: (result: WaitResult) => boolean;
}

/**
 * Reaps orphaned zombie children. `start()` hooks SIGCHLD and a periodic
 * `unref`ed sweep; `stop()` undoes both. `sweep()` can also be called directly.
 * Becoming a subreaper (when not PID 1) is the caller's job: setChildSubreaper().
 */
export class Reaper {
  private readonly isOwnChild: (pid: number) => boolean;
  private readonly sweepIntervalMs: number;
  private readonly minZombieAgeMs: number;
  private readonly log: (message: string) => void;
  private readonly onReaped: (result: WaitResult) => boolean;
  private timer: NodeJS.Timeout | undefined;
  private readonly firstSeen = new Map<number, number>();
  private reapedCount = 0;
  private readonly onSigchld = (): void => {
    this.sweep();
  };

  constructor(options: ReaperOptions) {
    this.isOwnChild = options.isOwnChild;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 1000;
    this.minZombieAgeMs = options.minZombieAgeMs ?? 0;
    this.log = options.log ?? (() => {});
    this.onReaped = options.onReaped ?? (() => false);
  }

  /** How many orphans this reaper has reaped so far. */
  get reaped(): number {
    return this.reapedCount;
  }

  /** Begin reaping on SIGCHLD and every sweepIntervalMs. Idempotent. */
  start(): void {
    if (this.timer) return;
    // Node's signal handle sits beside libuv's own SIGCHLD watcher; both run (checked on Node 20).
    process.on('SIGCHLD', this.onSigchld);
    this.timer = setInterval(() => this.sweep(), this.sweepIntervalMs);
    this.timer.unref();
  }

  /** Stop reaping; zombies that appear afterwards stay until someone reaps them. */
  stop(): void {
    if (!this.timer) return;
    process.off('SIGCHLD', this.onSigchld);
    clearInterval(this.timer);
    this.timer = undefined;
    this.firstSeen.clear();
  }

  /** Reap every unclaimed zombie child now; returns how many were reaped. Never throws. */
  sweep(): number {
    let zombies: number[];
    try {
      // Own children are skipped before their stat is read: a sweep costs per thread, not per service.
      zombies = zombieChildPids(this.isOwnChild);
    } catch (error) {
      this.log(`reaper: cannot list children: ${String(error)}, ignoring`);
      return 0;
    }
    const now = Date.now();
    const present = new Set(zombies);
    for (const pid of this.firstSeen.keys()) if (!present.has(pid)) this.firstSeen.delete(pid);
    let count = 0;
    for (const pid of zombies) {
      if (this.minZombieAgeMs > 0) {
        const seen = this.firstSeen.get(pid);
        if (seen === undefined) this.firstSeen.set(pid, now);
        if (seen === undefined || now - seen < this.minZombieAgeMs) continue;
      }
      const result = this.reapOne(pid);
      if (result) {
        count++;
        this.firstSeen.delete(pid);
        if (!this.onReaped(result)) this.log(`reaped orphan ${pid} (${describeExit(result)})`);
      }
    }
    this.reapedCount += count;
    return count;
  }

  private reapOne(pid: number): WaitResult | null {
    const result = waitpidNoHang(pid);
    if (typeof result !== 'number') return result;
    this.log(`reaper: waitpid(${pid}) failed: ${errnoName(-result)}, ignoring`);
    return null;
  }
}

