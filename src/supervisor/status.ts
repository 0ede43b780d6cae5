// What `launcher status` shows for a unit: per-instance facts and the one
// unit-level state derived from them.
import type { ExitStatus } from './contract.js';
import type { Instance } from './instance.js';
import type { State } from './states.js';

export interface InstanceStatus {
  readonly index: number;
  readonly state: State;
  /** The live child's pid, or null. */
  readonly pid: number | null;
  /** env.now() at the instance's last transition. */
  readonly since: number;
  /** Automatic restarts of this instance. */
  readonly restarts: number;
  /** The last STATUS= the child sent, cleared at each spawn. */
  readonly statusText: string | null;
  readonly lastExit: ExitStatus | null;
  /** Why it is failed or backing off (the transition's reason); null in any other state. */
  readonly reason: string | null;
  /** env.now() when the live child became ready; null without a ready child. */
  readySince: number | null;
}

export interface UnitStatus {
  readonly name: string;
  readonly state: State;
  readonly description?: string;
  readonly instances: readonly InstanceStatus[];
  /** Sum of the instances' restarts. */
  readonly restarts: number;
  /** env.now() when the unit last became running; null while it is not. */
  readonly startedAt: number | null;
}

/**
 * The unit's state is its instances' "most urgent" one, in this order:
 * failed > stopping > starting > backoff > running > waiting > inactive.
 * So a unit is `running` only when no instance is failed, moving or backing
 * off, and one instance in trouble shows on the unit.
 */
const PRECEDENCE: readonly State[] = ['failed', 'stopping', 'starting', 'backoff', 'running', 'waiting', 'inactive'];

/** The unit-level state for these instance states (see PRECEDENCE); `inactive` for none. */
export function unitState(states: readonly State[]): State {
  return PRECEDENCE.find((s) => states.includes(s)) ?? 'inactive';
}

/** A snapshot of one instance for status replies. */
export function instanceStatus(instance: Instance): InstanceStatus {
  return {
    index: instance.index,
    state: instance.state,
    pid: instance.pid,
    since: instance.since,
    restarts: instance.restarts,
    statusText: instance.statusText,
    lastExit: instance.lastExit,
    reason: instance.state === 'failed' || instance.state === 'backoff' ? instance.stateReason : null,
    readySince: instance.record?.readyAt ?? null,
  };
}
