// The restart policy as pure functions: what counts as a clean exit, whether to
// restart, how long to back off, when a run was stable, and the start limit.
import type { ExitStatus } from './contract.js';
import type { RestartPolicy } from '../units/types.js';

/** Signals systemd counts as a clean death (SuccessExitStatus default): a polite shutdown, not a crash. */
const CLEAN_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE']);

/** True for exit status 0 or death by SIGHUP/SIGINT/SIGTERM/SIGPIPE, as systemd decides. */
export function isCleanExit(status: ExitStatus): boolean {
  return status.code === 0 || (status.signal !== null && CLEAN_SIGNALS.has(status.signal));
}

/** "exit status 3" / "killed by SIGSEGV": the human words for an ExitStatus. */
export function describeExit(status: ExitStatus | null): string {
  if (status === null) return 'never ran';
  return status.signal !== null ? `killed by ${status.signal}` : `exit status ${status.code}`;
}

/**
 * Whether an exit that was not requested leads to a restart:
 * `no` never; `on-failure` only for a failure; `always` for any exit.
 */
export function shouldRestart(policy: RestartPolicy, failed: boolean): boolean {
  if (policy === 'always') return true;
  if (policy === 'on-failure') return failed;
  return false;
}

/**
 * The delay before restart number `consecutive` (0-based count of restarts
 * since the last stable run): `base * 2^consecutive`, capped at `max`.
 */
export function backoffDelay(consecutive: number, baseMs: number, maxMs: number): number {
  // 2^consecutive overflows to Infinity long after the cap applies, which Math.min handles.
  return Math.min(maxMs, baseMs * 2 ** consecutive);
}

/**
 * A run is stable when the child became ready and lived at least
 * `start_limit_interval`: then the backoff starts again from `restart_delay`.
 * (The same window the start limit uses, so "flapping" means one thing.)
 */
export function isStableRun(wasReady: boolean, runMs: number, startLimitIntervalMs: number): boolean {
  return wasReady && runMs >= startLimitIntervalMs;
}

/**
 * True when `startTimes` already holds `burst` starts within the last
 * `intervalMs`, so one more would be "more than start_limit_burst starts
 * within start_limit_interval" and the instance must go `failed` instead.
 */
export function startLimitHit(startTimes: readonly number[], now: number, burst: number, intervalMs: number): boolean {
  const recent = startTimes.filter((t) => now - t < intervalMs).length;
  return recent >= burst;
}
