// One instance of a unit: its state, its current child, its timers, and the
// dispatch loop that looks each event up in the transition table.
import type { Unit } from '../units/types.js';
import type { Child, ExitStatus, NotifyMessage, SupervisorEnv, SupervisorEvent, TimerHandle } from './contract.js';
import type { EventType, InstanceEvent, State } from './states.js';
import { TRANSITIONS } from './table.js';
import { ACTIONS } from './actions.js';
import { notifyEffects } from './notify-message.js';

/** What the supervisor knows about the child an instance currently runs. */
export interface ChildRecord {
  readonly child: Child;
  readonly pid: number;
  /** Pids named by MAINPID=: their datagrams count as this child's. */
  readonly extraPids: Set<number>;
  readonly spawnedAt: number;
  readyAt: number | null;
  /** Set when the supervisor killed the child for a missed deadline: its exit is a failure whatever its status. */
  failure: string | null;
  /** A stop was requested: its exit ends in `inactive`, never a restart. */
  stopRequested: boolean;
  /** RELOADING=1 seen and no READY=1 since. */
  reloading: boolean;
}

/** One state change, as observers see it. */
export interface Transition {
  readonly instance: Instance;
  readonly from: State;
  readonly to: State;
  readonly reason: string;
  /** Set when the change follows a child's exit (null: the spawn itself failed). */
  readonly exit?: ExitStatus | null;
  /** True when that exit ends a stop somebody requested (not an exit "for good"). */
  readonly requested?: boolean;
}

export type TimerName = 'ready' | 'stop' | 'watchdog' | 'backoff';

/** The events a timer may dispatch (`ready`: ready_after elapsed for a ready = "started" child). */
export type TimedEvent = EventType & ('ready' | 'ready_timeout' | 'stop_timeout' | 'backoff_elapsed' | 'watchdog_timeout');

export interface InstanceOptions {
  /** A handoff candidate: any exit or missed deadline ends in `failed`, never a restart. */
  readonly probation?: boolean;
  /** Asked on `start`: true when an on-demand unit has not been activated, so the instance only waits. */
  readonly awaitsActivation?: () => boolean;
}

/**
 * The lifecycle of instance `index` of `unit`. Drive it only with dispatch()
 * and applyNotify(); read it through the public fields. Events dispatched from
 * inside an action are queued and run after it, so every action sees a
 * consistent state. Observers (onTransition) are called synchronously.
 */
export class Instance {
  state: State = 'inactive';
  /** env.now() at the last transition. */
  since: number;
  /** The live child, or null when none runs. */
  record: ChildRecord | null = null;
  /** The last child, alive or not (for its output in failure reports). */
  lastChild: Child | null = null;
  /** Automatic restarts (after backoff) so far. */
  restarts = 0;
  /** Restarts since the last stable run: the exponent of the backoff. */
  consecutiveRestarts = 0;
  /** When each recent child was spawned, for the start limit. */
  startTimes: number[] = [];
  statusText: string | null = null;
  lastExit: ExitStatus | null = null;
  /** Why the last child's end counted as a failure, or null. */
  lastFailure: string | null = null;
  /** The reason given with the last transition ("exit status 3; restarting in 200 ms"). */
  stateReason = '';
  probation: boolean;

  private readonly timers = new Map<TimerName, { handle: TimerHandle; deadline: number; type: TimedEvent }>();
  private readonly queue: InstanceEvent[] = [];
  private dispatching = false;
  private readonly listeners = new Set<(t: Transition) => void>();
  private readonly awaitsActivationHook: () => boolean;

  constructor(
    readonly unit: Unit,
    readonly index: number,
    readonly env: SupervisorEnv,
    options: InstanceOptions = {},
  ) {
    this.since = env.now();
    this.probation = options.probation ?? false;
    this.awaitsActivationHook = options.awaitsActivation ?? (() => false);
  }

  /** The live child's pid, or null. */
  get pid(): number | null {
    return this.record?.pid ?? null;
  }

  /** Runs `event` through the table (after any event already running). */
  dispatch(event: InstanceEvent): void {
    this.queue.push(event);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        const action = TRANSITIONS[this.state][next.type];
        ACTIONS[action](this, next);
      }
    } finally {
      this.dispatching = false;
    }
  }

  /** True when a datagram from `pid` belongs to this instance's live child. */
  ownsPid(pid: number): boolean {
    const r = this.record;
    return r !== null && (r.pid === pid || r.extraPids.has(pid));
  }

  /** Applies one sd_notify datagram already attributed to this instance's child. */
  applyNotify(msg: NotifyMessage): void {
    const effects = notifyEffects(msg);
    for (const warning of effects.warnings) this.log('warn', `${warning}, ignoring`, { pid: msg.pid });
    if (effects.mainPid !== undefined && this.record) this.record.extraPids.add(effects.mainPid);
    if (effects.statusText !== undefined) this.statusText = effects.statusText;
    for (const event of effects.events) this.dispatch(event);
  }

  /** Subscribes to transitions; returns the unsubscribe function. */
  onTransition(listener: (t: Transition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True on `start` while an on-demand unit still waits for its first connection. */
  awaitsActivation(): boolean {
    return !this.probation && this.awaitsActivationHook();
  }

  /** Changes state and tells every observer. For actions only. */
  moveTo(to: State, reason: string, exit?: ExitStatus | null, requested = false): void {
    const from = this.state;
    this.state = to;
    this.stateReason = reason;
    this.since = this.env.now();
    const transition: Transition =
      exit === undefined ? { instance: this, from, to, reason } : { instance: this, from, to, reason, exit, requested };
    for (const listener of [...this.listeners]) listener(transition);
  }

  /** Arms timer `name` to dispatch `event` after `ms`, replacing any armed one. For actions only. */
  arm(name: TimerName, ms: number, type: TimedEvent): void {
    this.armAt(name, this.env.now() + ms, type);
  }

  /** Moves timer `name`'s deadline to `ms` from now if that is later (EXTEND_TIMEOUT_USEC); no-op when unarmed. */
  extend(name: TimerName, ms: number, type: 'ready_timeout' | 'stop_timeout'): boolean {
    const armed = this.timers.get(name);
    const deadline = this.env.now() + ms;
    if (!armed || deadline <= armed.deadline) return false;
    this.armAt(name, deadline, type);
    return true;
  }

  disarm(name: TimerName): void {
    const armed = this.timers.get(name);
    if (armed) this.env.clearTimer(armed.handle);
    this.timers.delete(name);
  }

  disarmAll(): void {
    for (const name of [...this.timers.keys()]) this.disarm(name);
  }

  /** Every armed timer: its name, the event it will dispatch and the ms left (for a snapshot). */
  armedTimers(): { name: TimerName; type: TimedEvent; remainingMs: number }[] {
    const now = this.env.now();
    return [...this.timers].map(([name, t]) => ({ name, type: t.type, remainingMs: Math.max(0, Math.round(t.deadline - now)) }));
  }

  /** Arms a timer carried over from a snapshot (restore only). */
  rearm(name: TimerName, remainingMs: number, type: TimedEvent): void {
    this.arm(name, remainingMs, type);
  }

  /** A launcher event about this instance, through env.log. */
  log(level: SupervisorEvent['level'], message: string, extra: Record<string, unknown> = {}): void {
    const pid = this.record?.pid;
    this.env.log({
      unit: this.unit.name,
      level,
      message: `#${this.index}${this.probation ? ' (new)' : ''}: ${message}`,
      instance: this.index,
      ...(pid !== undefined ? { pid } : {}),
      state: this.state,
      ...extra,
    });
  }

  private armAt(name: TimerName, deadline: number, type: TimedEvent): void {
    this.disarm(name);
    const handle = this.env.setTimer(Math.max(0, deadline - this.env.now()), () => {
      // Only the armed handle may fire: a cleared or replaced timer is stale.
      if (this.timers.get(name)?.handle !== handle) return;
      this.timers.delete(name);
      this.dispatch({ type } as InstanceEvent);
    });
    this.timers.set(name, { handle, deadline, type });
  }
}
