// The protocol's replies, verb by verb: the result each verb answers with and the
// events it streams before it (protocol.ts has the wire format and the requests).
// The launcher's handler is typed by these; the client checks what it receives
// against them before a caller reads a field, so a reply of the wrong shape is a
// LAUNCHER_CONTROL_PROTOCOL error, not a crash in the CLI. Checks name only the
// fields the CLI reads: a newer launcher may add fields, an older one may lack the
// optional ones. Types only from elsewhere, so the client loads nothing more.
import { LauncherError } from '../errors.js';
import type { ExitStatus } from '../supervisor/contract.js';
import type { RestartReport } from '../supervisor/handoff.js';
import type { Verb } from './protocol.js';

export type { RestartReport, InstanceReport } from '../supervisor/handoff.js';

/** `ping`, answered by the server itself. */
export interface PingResult {
  readonly pong: true;
  readonly pid: number;
  readonly protocol: number;
}

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

/** Who answers: the launcher process, across its in-place upgrades. */
export interface LauncherStatusReply {
  readonly pid: number;
  /** ms since the first generation started (an upgrade keeps it). */
  readonly uptimeMs: number;
  readonly unitsDir: string | null;
  /** The version running now (absent from a launcher older than upgrades). */
  readonly version?: string;
  /** Wall-clock ms when the first generation started. */
  readonly startedAt?: number;
  /** In-place upgrades so far, and the wall-clock ms of the last one (null: never). */
  readonly upgrades?: number;
  readonly upgradedAt?: number | null;
}

/** `status`: what the launcher knows about each unit, in plain JSON (durations in ms). */
export interface StatusReply {
  readonly launcher: LauncherStatusReply;
  readonly units: UnitStatusReply[];
}

/** `start` and `stop`: each named unit's state once done. */
export interface UnitStatesResult {
  readonly units: { readonly unit: string; readonly state: string }[];
}

/** `restart`: each unit's swap, in order. */
export interface RestartResult {
  readonly units: { readonly unit: string; readonly report: RestartReport }[];
}

/** `reload`: one line per change applied. */
export interface ReloadResult {
  readonly summary: string[];
}

/** `down`, answered before anything stops: whom to wait for, and how long (a launcher older than these fields sends `stopping` alone). */
export interface DownResult {
  readonly stopping: true;
  readonly pid?: number;
  readonly waitingFor?: string[];
  readonly deadlineMs?: number;
}

/**
 * `upgrade` answers only when refused (as an error); on success the launcher execs and
 * the connection ends without a result. The type exists for the table's sake.
 */
export type UpgradeResult = never;

/** `logs`: how many lines were sent, and how many a slow reader missed. */
export interface LogsResult {
  readonly lines: number;
  readonly skipped: number;
}

/** The result of each verb. */
export interface Results {
  ping: PingResult;
  status: StatusReply;
  start: UnitStatesResult;
  stop: UnitStatesResult;
  restart: RestartResult;
  reload: ReloadResult;
  down: DownResult;
  logs: LogsResult;
  upgrade: UpgradeResult;
}

export type ResultOf<V extends Verb> = Results[V];

/** What the launcher's handler answers with (every verb but `ping`, which the server answers). */
export type ControlResult = Results[Exclude<Verb, 'ping'>];

/** A progress event: a human line (`message`), often about a unit; other fields are informational. */
export interface ProgressEvent {
  readonly message?: string;
  readonly unit?: string;
  readonly [field: string]: unknown;
}

/** A `logs` event: one record (its JSON form: see entrypoint/log-follow.ts), or how many lines a slow reader missed. */
export type LogsEvent = { readonly line: Readonly<Record<string, unknown>> } | { readonly skipped: number };

export type EventOf<V extends Verb> = V extends 'logs' ? LogsEvent : ProgressEvent;

// ---- checks ----

type Check = (value: unknown, where: string) => void;

function wrong(where: string, expected: string, value: unknown): LauncherError {
  const received = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
  return new LauncherError('LAUNCHER_CONTROL_PROTOCOL', `the launcher's reply has ${where} = ${received}; expected ${expected}`, {
    key: where,
    expected,
    received,
  });
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const primitive = (type: 'number' | 'string' | 'boolean'): Check => (value, where) => {
  if (typeof value !== type) throw wrong(where, `a ${type}`, value);
};
const num = primitive('number');
const str = primitive('string');
const bool = primitive('boolean');
const nullable = (check: Check): Check => (value, where) => {
  if (value !== null) check(value, where);
};
const optional = (check: Check): Check => (value, where) => {
  if (value !== undefined) check(value, where);
};
const arrayOf = (check: Check): Check => (value, where) => {
  if (!Array.isArray(value)) throw wrong(where, 'an array', value);
  value.forEach((item, i) => check(item, `${where}[${i}]`));
};
const object = (fields: Record<string, Check>): Check => (value, where) => {
  if (!isObject(value)) throw wrong(where, 'an object', value);
  for (const [key, check] of Object.entries(fields)) check(value[key], `${where}.${key}`);
};

const instanceStatus = object({ index: num, state: str, pid: nullable(num), forMs: num, restarts: num, statusText: nullable(str), reason: nullable(str), uptimeMs: nullable(num) });
const unitStatus = object({
  name: str,
  state: str,
  pids: arrayOf(num),
  uptimeMs: nullable(num),
  reason: nullable(str),
  restarts: num,
  statusText: nullable(str),
  sockets: arrayOf(object({ name: str, listen: str, local: str })),
  instances: arrayOf(instanceStatus),
  perConnection: optional(bool),
  fdStoreMax: optional(num),
  storedFds: optional(arrayOf(object({ instance: num, name: str }))),
});
const unitStates = object({ units: arrayOf(object({ unit: str, state: str })) });
const restartReport = object({ unit: str, instances: arrayOf(object({ index: num, oldPid: nullable(num), newPid: num, readyMs: num, drainMs: num })) });

const RESULT_CHECKS: { readonly [V in Verb]: Check } = {
  ping: object({ pong: bool, pid: num, protocol: num }),
  status: object({
    launcher: object({ pid: num, uptimeMs: num, unitsDir: nullable(str), version: optional(str), startedAt: optional(num), upgrades: optional(num), upgradedAt: optional(nullable(num)) }),
    units: arrayOf(unitStatus),
  }),
  start: unitStates,
  stop: unitStates,
  restart: object({ units: arrayOf(object({ unit: str, report: restartReport })) }),
  reload: object({ summary: arrayOf(str) }),
  down: object({ stopping: bool, pid: optional(num), waitingFor: optional(arrayOf(str)), deadlineMs: optional(num) }),
  logs: object({ lines: num, skipped: num }),
  upgrade: (value, where) => {
    throw wrong(where, 'no result (an upgrade ends the connection when it succeeds)', value);
  },
};

const logsEvent: Check = (value, where) => {
  if (isObject(value) && 'skipped' in value) num(value.skipped, `${where}.skipped`);
  else object({ line: object({}) })(value, where);
};
const progressEvent = object({ message: optional(str), unit: optional(str) });

/** `result` as verb `verb`'s result; LAUNCHER_CONTROL_PROTOCOL naming the field when it has another shape. */
export function checkResult<V extends Verb>(verb: V, result: unknown): ResultOf<V> {
  RESULT_CHECKS[verb](result, 'result');
  return result as ResultOf<V>;
}

/** `event` as an event of verb `verb`; LAUNCHER_CONTROL_PROTOCOL when it has another shape. */
export function checkEvent<V extends Verb>(verb: V, event: unknown): EventOf<V> {
  (verb === 'logs' ? logsEvent : progressEvent)(event, 'event');
  return event as EventOf<V>;
}
