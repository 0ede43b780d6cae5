// A supervisor's runtime state as plain data, and back: what an in-place upgrade
// of the launcher carries to its next version. Times are carried as "ms ago" /
// "ms left", because the monotonic clock starts again at zero after an exec.
// Children are carried by pid and the fds of their output pipes; the new process
// adopts them through SupervisorEnv.adopt (it did not spawn them, so it learns of
// their exit from the reaper).
import type { Child, ExitStatus } from './contract.js';
import type { ChildRecord, Instance, TimedEvent, TimerName } from './instance.js';
import type { State } from './states.js';

/** A live child as carried across an exec. */
export interface ChildSnapshot {
  readonly pid: number;
  readonly extraPids: readonly number[];
  readonly spawnedAgoMs: number;
  readonly readyAgoMs: number | null;
  readonly failure: string | null;
  readonly stopRequested: boolean;
  readonly reloading: boolean;
  /** The launcher's read ends of its stdout/stderr pipes (-1: none). */
  readonly stdout: number;
  readonly stderr: number;
  readonly lastLines: readonly string[];
  /** Set when it had already been reaped (its exit not yet acted on): the next process acts on it. */
  readonly exit: ExitStatus | null;
}

export interface InstanceSnapshot {
  readonly index: number;
  readonly state: State;
  readonly sinceAgoMs: number;
  readonly stateReason: string;
  readonly restarts: number;
  readonly consecutiveRestarts: number;
  readonly startTimesAgoMs: readonly number[];
  readonly statusText: string | null;
  readonly lastExit: ExitStatus | null;
  readonly lastFailure: string | null;
  /** The last child's last lines when no child runs (failure reports). */
  readonly lastLines: readonly string[];
  readonly child: ChildSnapshot | null;
  readonly timers: readonly { readonly name: TimerName; readonly type: TimedEvent; readonly remainingMs: number }[];
}

/** A unit run by UnitSupervisor. */
export interface ServiceSnapshot {
  readonly kind: 'service';
  readonly activated: boolean;
  readonly killedOnStop: number;
  readonly startedAgoMs: number | null;
  readonly instances: readonly InstanceSnapshot[];
}

/** A unit run by PerConnectionSupervisor: the connections' processes still running. */
export interface PerConnectionSnapshot {
  readonly kind: 'per-connection';
  readonly accepting: boolean;
  readonly next: number;
  readonly accepted: number;
  readonly killedOnStop: number;
  readonly startedAgoMs: number | null;
  readonly running: readonly { readonly n: number; readonly socketFd: number; readonly sinceAgoMs: number; readonly child: ChildSnapshot }[];
}

export type SupervisorSnapshot = ServiceSnapshot | PerConnectionSnapshot;

/** What the env needs to adopt a carried child: it hands back a Child whose `exited` comes from the reaper. */
export interface AdoptedChildSpec {
  readonly pid: number;
  readonly stdout: number;
  readonly stderr: number;
  readonly lastLines: readonly string[];
  /** Already reaped by the previous process: `exited` settles with this at once. */
  readonly exit: ExitStatus | null;
}

const ago = (now: number, t: number): number => Math.max(0, Math.round(now - t));

export function snapshotChild(record: Pick<ChildRecord, 'child' | 'pid'> & Partial<ChildRecord>, now: number): ChildSnapshot {
  return {
    pid: record.pid,
    extraPids: [...(record.extraPids ?? [])],
    spawnedAgoMs: ago(now, record.spawnedAt ?? now),
    readyAgoMs: record.readyAt === null || record.readyAt === undefined ? null : ago(now, record.readyAt),
    failure: record.failure ?? null,
    stopRequested: record.stopRequested ?? false,
    reloading: record.reloading ?? false,
    stdout: record.child.outputFds?.stdout ?? -1,
    stderr: record.child.outputFds?.stderr ?? -1,
    lastLines: [...record.child.lastLines()],
    exit: record.child.reapedStatus?.() ?? null,
  };
}

export function snapshotInstance(i: Instance): InstanceSnapshot {
  const now = i.env.now();
  return {
    index: i.index,
    state: i.state,
    sinceAgoMs: ago(now, i.since),
    stateReason: i.stateReason,
    restarts: i.restarts,
    consecutiveRestarts: i.consecutiveRestarts,
    startTimesAgoMs: i.startTimes.map((t) => ago(now, t)),
    statusText: i.statusText,
    lastExit: i.lastExit,
    lastFailure: i.lastFailure,
    lastLines: i.lastChild ? [...i.lastChild.lastLines()] : [],
    child: i.record ? snapshotChild(i.record, now) : null,
    timers: i.armedTimers(),
  };
}

/** A child that has already exited: only its last lines are left (for failure reports). */
export function pastChild(pid: number, lines: readonly string[]): Child {
  return { pid, exited: new Promise(() => {}), kill: () => {}, lastLines: () => lines };
}

/**
 * Puts `snap` into the fresh instance `i`: fields, the adopted child (its exit becomes
 * the instance's `exited` event, as for a child it spawned), and the timers with the
 * time they had left. Nothing is logged and no transition is emitted: for observers the
 * instance simply goes on.
 */
export function restoreInstance(i: Instance, snap: InstanceSnapshot, adopt: (spec: AdoptedChildSpec) => Child): void {
  const now = i.env.now();
  i.state = snap.state;
  i.since = now - snap.sinceAgoMs;
  i.stateReason = snap.stateReason;
  i.restarts = snap.restarts;
  i.consecutiveRestarts = snap.consecutiveRestarts;
  i.startTimes = snap.startTimesAgoMs.map((a) => now - a);
  i.statusText = snap.statusText;
  i.lastExit = snap.lastExit;
  i.lastFailure = snap.lastFailure;
  const c = snap.child;
  if (c) {
    const child = adopt({ pid: c.pid, stdout: c.stdout, stderr: c.stderr, lastLines: c.lastLines, exit: c.exit });
    const record: ChildRecord = {
      child,
      pid: c.pid,
      extraPids: new Set(c.extraPids),
      spawnedAt: now - c.spawnedAgoMs,
      readyAt: c.readyAgoMs === null ? null : now - c.readyAgoMs,
      failure: c.failure,
      stopRequested: c.stopRequested,
      reloading: c.reloading,
    };
    i.record = record;
    i.lastChild = child;
    void child.exited.then((status) => {
      if (i.record === record) i.dispatch({ type: 'exited', status });
    });
  } else if (snap.lastLines.length > 0) {
    i.lastChild = pastChild(0, snap.lastLines);
  }
  for (const t of snap.timers) i.rearm(t.name, t.remainingMs, t.type);
}
