// The shape of a `status` reply: what the launcher knows about each unit, in
// plain JSON (durations in ms, no monotonic clock values) for the CLI and scripts.
import type { ExitStatus } from '../supervisor/contract.js';

export interface InstanceStatusReply {
  readonly index: number;
  readonly state: string;
  readonly pid: number | null;
  /** ms since this instance's last transition. */
  readonly forMs: number;
  readonly restarts: number;
  readonly statusText: string | null;
  readonly lastExit: ExitStatus | null;
  /** Why it is failed or backing off; null in any other state. */
  readonly reason: string | null;
  /** ms since its live child became ready; null without a ready child. */
  readonly uptimeMs: number | null;
}

export interface UnitStatusReply {
  readonly name: string;
  readonly state: string;
  readonly description?: string;
  readonly pids: number[];
  /** ms since the newest of its ready children became ready (a replaced child starts it over); null with none. */
  readonly uptimeMs: number | null;
  /** Why the unit is failed or backing off (its first such instance's reason); null otherwise. */
  readonly reason: string | null;
  readonly restarts: number;
  /** The newest STATUS= text among the instances. */
  readonly statusText: string | null;
  readonly sockets: { readonly name: string; readonly listen: string; readonly local: string }[];
  /** For a per-connection unit (accept = true): one instance per live connection, index = its number n (`unit@n`). */
  readonly instances: InstanceStatusReply[];
  /** True when the unit runs one process per connection (accept = true). */
  readonly perConnection?: boolean;
  /** The unit's fd_store_max (0: no fd store). */
  readonly fdStoreMax?: number;
  /** fds its instances handed over with FDSTORE=1, by instance, in the order they are passed. */
  readonly storedFds?: { readonly instance: number; readonly name: string }[];
}

export interface LauncherStatusReply {
  readonly pid: number;
  readonly uptimeMs: number;
  readonly unitsDir: string | null;
  /** The version running now. */
  readonly version: string;
  /** Wall-clock ms when the first generation started (an upgrade keeps it). */
  readonly startedAt: number;
  /** In-place upgrades so far, and the wall-clock ms of the last one (null: never). */
  readonly upgrades: number;
  readonly upgradedAt: number | null;
}

export interface StatusReply {
  readonly launcher: LauncherStatusReply;
  readonly units: UnitStatusReply[];
}
