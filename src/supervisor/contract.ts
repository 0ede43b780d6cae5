// The seams between the supervisor and the world: a child process, a notify
// message, and the one injected `SupervisorEnv` through which every side effect
// (spawn, signal, clock, timers, logs) passes. Real implementations live in
// spawn.ts / notify.ts / the entrypoint; tests pass fakes.
import type { Unit } from '../units/types.js';
import type { AdoptedChildSpec } from './snapshot.js';

/** How a child ended: exactly one of code/signal is non-null. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running service process, as the supervisor sees it. */
export interface Child {
  readonly pid: number;
  /** Settles once, when the process has exited and been reaped. Never rejects. */
  readonly exited: Promise<ExitStatus>;
  /** Sends a signal to the child's whole process group; a no-op once it has exited. */
  kill(signal: NodeJS.Signals): void;
  /** The last lines the child printed (stdout and stderr), oldest first, for failure reports. */
  lastLines(): readonly string[];
  /**
   * How it ended, once it has been reaped, even before `exited` settles (its output may
   * still be draining); null while it runs. An upgrade carries this so an exit is never lost.
   */
  reapedStatus?(): ExitStatus | null;
  /**
   * The launcher's read ends of the child's stdout/stderr pipes (absent for fakes).
   * A re-exec of the launcher must keep these fds to go on relaying the child's output.
   */
  readonly outputFds?: { readonly stdout: number; readonly stderr: number };
}

/** One sd_notify datagram, already checked for size and NUL bytes. */
export interface NotifyMessage {
  /** The sender's pid from SCM_CREDENTIALS. */
  readonly pid: number;
  readonly uid: number;
  /** KEY=VALUE assignments in order (a later duplicate wins in `fields`). */
  readonly fields: ReadonlyMap<string, string>;
  /**
   * fds passed with SCM_RIGHTS (CLOEXEC). Whoever handles the message owns them:
   * it must store or close every one (see fd-store-message.ts).
   */
  readonly fds?: readonly number[];
}

export type TimerHandle = { readonly __timer: unique symbol } | object;

/** Everything the supervisor does to the world goes through here. */
export interface SupervisorEnv {
  /** Monotonic milliseconds. */
  now(): number;
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /**
   * Starts one process of `unit` as instance `instance` (0-based), with the
   * unit's sockets at fds 3.., LISTEN_* and NOTIFY_SOCKET set, re-applying
   * socket options first. Throws a LauncherError (LAUNCHER_SPAWN) when the
   * process could not be created at all.
   */
  spawn(unit: Unit, instance: number): Child;
  /**
   * Takes over a child a previous launcher process (before an in-place upgrade) spawned:
   * same pid, its output pipes' read ends at the fds given. Its `exited` settles when the
   * reaper collects it. Needed only to restore from a snapshot.
   */
  adopt?(unit: Unit, instance: number, spec: AdoptedChildSpec): Child;
  /** Structured launcher events (transitions, restarts, failures). */
  log(event: SupervisorEvent): void;
}

/** An event the supervisor reports; `message` is the human line. */
export interface SupervisorEvent {
  readonly unit: string;
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly instance?: number;
  readonly pid?: number;
  readonly state?: string;
  readonly [extra: string]: unknown;
}
