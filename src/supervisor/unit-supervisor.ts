// Supervises one unit: its instances, the operations a user asks for (start,
// stop, restart, replace), sd_notify attribution, status, and the events the
// entrypoint and the control server listen to.
import { EventEmitter } from 'node:events';
import { LauncherError } from '../errors.js';
import type { Unit } from '../units/types.js';
import type { ExitStatus, NotifyMessage, SupervisorEnv, SupervisorEvent } from './contract.js';
import { Instance, type Transition } from './instance.js';
import { reach } from './reach.js';
import { rollOut, type HandoffHost, type RestartReport } from './handoff.js';
import { instanceStatus, unitState, type UnitStatus } from './status.js';
import type { State } from './states.js';
import { restoreInstance, snapshotInstance, type ServiceSnapshot } from './snapshot.js';

/** Payload of the 'transition' event. */
export interface TransitionEvent {
  readonly unit: string;
  readonly instance: number;
  readonly from: State;
  readonly to: State;
  readonly reason: string;
  readonly pid: number | null;
  /** True for a handoff's new instance that has not taken its slot yet. */
  readonly candidate: boolean;
}

/** Payload of the 'settled' event: the unit stopped for good on its own. */
export interface SettledEvent {
  readonly unit: string;
  readonly state: 'inactive' | 'failed';
  /** The last child's exit (null if the last start could not spawn at all). */
  readonly exit: ExitStatus | null;
}

export interface RestartOptions {
  /** Called with each step of the handoff (also emitted as 'progress'). */
  readonly onProgress?: (event: SupervisorEvent) => void;
}

const SERVING: readonly State[] = ['starting', 'running', 'stopping'];

/**
 * The supervisor of one unit. Every side effect goes through `env`.
 *
 * Events: 'transition' (TransitionEvent) for every state change of every
 * instance; 'progress' (SupervisorEvent) for handoff steps; 'settled'
 * (SettledEvent) when, after a child's unrequested exit, every instance is
 * inactive or failed (nothing runs, nothing will restart) — `launcher run` exits with that status.
 *
 * Concurrency: one operation at a time. start() while a start runs joins it;
 * start() during a stop or restart, restart()/replace() while any operation
 * runs, and stop() during a stop or restart reject LAUNCHER_BUSY — except
 * stop({ force: true }), meant for shutdown, which cuts a restart short (the
 * restart rejects) and joins a running stop. stop() during a start is
 * allowed; the start then rejects LAUNCHER_UNIT_FAILED.
 */
export class UnitSupervisor extends EventEmitter {
  #unit: Unit;
  readonly #env: SupervisorEnv;
  #slots: Instance[];
  readonly #extras = new Set<Instance>();
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #restarting = false;
  #aborting = false;
  /** An on-demand unit got its first connection since the last start. */
  #activated = false;
  #startedAt: number | null = null;
  #killedOnStop = 0;

  constructor(unit: Unit, env: SupervisorEnv) {
    super();
    this.#unit = unit;
    this.#env = env;
    this.#slots = this.#instancesOf(unit);
  }

  /** The unit as currently applied (replace() swaps it only on success). */
  get unit(): Unit {
    return this.#unit;
  }

  /**
   * Starts every instance and resolves when all are ready; an on-demand unit
   * not yet activated only goes `waiting` and resolves at once. From `failed`
   * this clears the failure. Rejects LAUNCHER_UNIT_FAILED when an instance
   * ends failed (after its restart policy gave up) or is stopped first.
   */
  start(): Promise<void> {
    if (this.#starting) return this.#starting;
    if (this.#stopping || this.#restarting) return Promise.reject(this.#busy('start'));
    this.#starting = this.#startAll().finally(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  /** On-demand: the first connection or datagram arrived; spawn now (waiting → starting). Idempotent. */
  activate(): void {
    this.#activated = true;
    for (const instance of this.#slots) instance.dispatch({ type: 'activate' });
  }

  /**
   * Stops every instance: stop_signal to each child's process group, SIGKILL
   * after stop_timeout (EXTEND_TIMEOUT_USEC may extend it); resolves when all
   * exited, every instance `inactive`. Nothing restarts afterwards, and an
   * on-demand unit waits for activation again on its next start.
   */
  stop(options: { force?: boolean } = {}): Promise<void> {
    if (this.#stopping) return options.force ? this.#stopping : Promise.reject(this.#busy('stop'));
    if (this.#restarting) {
      if (!options.force) return Promise.reject(this.#busy('stop'));
      this.#aborting = true;
    }
    const everyone = [...this.#slots, ...this.#extras];
    for (const instance of everyone) instance.dispatch({ type: 'stop' });
    this.#activated = false;
    this.#stopping = Promise.all(everyone.map((i) => reach(i, ['inactive']))).then(
      () => {
        this.#stopping = null;
      },
    );
    return this.#stopping;
  }

  /**
   * Swaps every child for a new one of the same unit (see replace()).
   * Resolves with the pids and timings; rejects LAUNCHER_RESTART_FAILED
   * (context: unit, instance, reason, exit, lastLines) when a new child
   * exits or misses ready_timeout — the old ones keep serving — or
   * LAUNCHER_BUSY while another operation runs.
   */
  restart(options: RestartOptions = {}): Promise<RestartReport> {
    return this.#rollOut(this.#unit, options);
  }

  /**
   * Like restart(), with new children of `unit` (a changed unit file, same
   * name). `handoff` is the new unit's. On success `this.unit` becomes
   * `unit`; on failure it stays the old one (instances already swapped keep
   * running the new version). A unit that is not serving adopts `unit` and starts.
   */
  replace(unit: Unit, options: RestartOptions = {}): Promise<RestartReport> {
    return this.#rollOut(unit, options);
  }

  /**
   * Applies a datagram from the unit's notify socket, if its sender is one of
   * this unit's children (or a pid a child named with MAINPID=); otherwise logs
   * a warning and ignores it. A lone BARRIER=1 is dropped silently whoever sent
   * it, as systemd does: systemd-notify sends it from its own pid (not the
   * service's) right after crediting READY=1 to its parent, and its fd is
   * closed by the caller right after, which is all a barrier asks.
   * Returns the index of the instance the sender belongs to, or null; msg.fds
   * are left to the caller (the fd store), which must keep or close them.
   */
  notify(msg: NotifyMessage): number | null {
    if (msg.fields.size === 1 && msg.fields.get('BARRIER') === '1') return null;
    const owner = [...this.#slots, ...this.#extras].find((i) => i.ownsPid(msg.pid));
    if (!owner) {
      this.#env.log({
        unit: this.#unit.name,
        level: 'warn',
        message: `notify message from pid ${msg.pid}, which is not one of its processes, ignoring`,
        pid: msg.pid,
      });
      return null;
    }
    owner.applyNotify(msg);
    return owner.index;
  }

  /**
   * Whether any instance (serving or on its way in or out) runs `unit`: after a
   * failed rolling replace(), the instances already swapped keep the new spec.
   */
  runs(unit: Unit): boolean {
    return [...this.#slots, ...this.#extras].some((i) => i.unit === unit);
  }

  /** How many children a requested stop had to end with SIGKILL (stop_timeout ran out), ever. */
  get killedOnStop(): number {
    return this.#killedOnStop;
  }

  /** A snapshot for `launcher status` (unit state rule: see unitState in status.ts). */
  status(): UnitStatus {
    const instances = this.#slots.map(instanceStatus);
    return {
      name: this.#unit.name,
      state: unitState(instances.map((i) => i.state)),
      ...(this.#unit.description !== undefined ? { description: this.#unit.description } : {}),
      instances,
      restarts: instances.reduce((sum, i) => sum + i.restarts, 0),
      startedAt: this.#startedAt,
    };
  }

  async #startAll(): Promise<void> {
    const slots = [...this.#slots];
    for (const instance of slots) instance.dispatch({ type: 'start' });
    const outcomes = await Promise.all(slots.map((i) => reach(i, ['running', 'waiting', 'failed', 'inactive'])));
    const broken = slots.find((_, k) => outcomes[k] === 'failed' || outcomes[k] === 'inactive');
    if (!broken) return;
    const why = broken.lastFailure ?? 'stopped before it was ready';
    throw new LauncherError('LAUNCHER_UNIT_FAILED', `${this.#unit.name}[${broken.index}]: ${why}`, {
      unit: this.#unit.name,
      instance: broken.index,
      reason: why,
      exit: broken.lastExit,
      lastLines: broken.lastChild ? [...broken.lastChild.lastLines()] : [],
    });
  }

  async #rollOut(unit: Unit, options: RestartOptions): Promise<RestartReport> {
    if (this.#starting || this.#stopping || this.#restarting) throw this.#busy('restart');
    this.#restarting = true;
    this.#aborting = false;
    const progress = (event: SupervisorEvent): void => {
      this.#env.log(event);
      options.onProgress?.(event);
      this.emit('progress', event);
    };
    try {
      if (this.#slots.some((i) => SERVING.includes(i.state))) {
        const report = await rollOut(this.#handoffHost(progress), unit);
        this.#unit = unit;
        return report;
      }
      // Nothing serves: restart is start (a replaced unit is adopted first).
      if (unit !== this.#unit) {
        for (const old of this.#slots) old.dispatch({ type: 'stop' }); // no child: settles at once
        this.#unit = unit;
        this.#slots = this.#instancesOf(unit);
      }
      await this.#startAll();
      return { unit: unit.name, instances: this.#slots.filter((i) => i.record).map(startReport) };
    } finally {
      this.#restarting = false;
    }
  }

  #handoffHost(progress: (event: SupervisorEvent) => void): HandoffHost {
    return {
      env: this.#env,
      slots: this.#slots,
      extras: this.#extras,
      newInstance: (unit, index, probation) => this.#newInstance(unit, index, probation),
      progress,
      aborted: () => this.#aborting,
    };
  }

  #instancesOf(unit: Unit): Instance[] {
    return Array.from({ length: unit.service.instances }, (_, index) => this.#newInstance(unit, index, false));
  }

  #newInstance(unit: Unit, index: number, probation: boolean): Instance {
    const instance = new Instance(unit, index, this.#env, {
      probation,
      awaitsActivation: () => unit.service.start === 'on-demand' && !this.#activated,
    });
    instance.onTransition((t) => this.#observe(t));
    return instance;
  }

  /** Every transition: emit it, log it, keep startedAt, and detect the unit settling for good. */
  #observe(t: Transition): void {
    const { instance } = t;
    const name = this.#unit.name;
    const event: TransitionEvent = {
      unit: name,
      instance: instance.index,
      from: t.from,
      to: t.to,
      reason: t.reason,
      pid: instance.pid ?? t.instance.lastChild?.pid ?? null,
      candidate: instance.probation,
    };
    this.emit('transition', event);
    if (t.requested && t.exit?.signal === 'SIGKILL') this.#killedOnStop += 1;
    const level = t.to === 'failed' ? 'error' : t.to === 'backoff' ? 'warn' : 'info';
    this.#env.log({
      unit: name,
      level,
      message: `#${instance.index}${instance.probation ? ' (new)' : ''}: ${t.from} -> ${t.to} (${t.reason})`,
      instance: instance.index,
      ...(event.pid !== null ? { pid: event.pid } : {}),
      state: t.to,
      from: t.from,
    });
    if (!this.#slots.includes(instance)) return;
    const state = unitState(this.#slots.map((i) => i.state));
    if (state === 'running') this.#startedAt ??= this.#env.now();
    else if (!SERVING.includes(state) && state !== 'backoff') this.#startedAt = null;
    const allDown = this.#slots.every((i) => i.state === 'inactive' || i.state === 'failed');
    if (t.exit !== undefined && !t.requested && allDown) {
      const settled: SettledEvent = { unit: name, state: state === 'failed' ? 'failed' : 'inactive', exit: t.exit };
      // The activation that started these children is used up: an on-demand unit's next start waits for traffic again.
      this.#activated = false;
      this.emit('settled', settled);
    }
  }

  /**
   * The unit's runtime state as plain data (for an in-place upgrade). Throws LAUNCHER_BUSY
   * while a start, stop or restart is under way: those hold promises no snapshot can carry.
   */
  snapshot(): ServiceSnapshot {
    if (this.#starting || this.#stopping || this.#restarting || this.#extras.size > 0) throw this.#busy('be carried across an upgrade');
    const now = this.#env.now();
    return {
      kind: 'service',
      activated: this.#activated,
      killedOnStop: this.#killedOnStop,
      startedAgoMs: this.#startedAt === null ? null : Math.max(0, Math.round(now - this.#startedAt)),
      instances: this.#slots.map(snapshotInstance),
    };
  }

  /** Takes over `snap` (a fresh supervisor only): instances, adopted children, timers. */
  restore(snap: ServiceSnapshot): void {
    const adopt = this.#env.adopt;
    if (!adopt) throw new Error('this SupervisorEnv cannot adopt children');
    const now = this.#env.now();
    this.#activated = snap.activated;
    this.#killedOnStop = snap.killedOnStop;
    this.#startedAt = snap.startedAgoMs === null ? null : now - snap.startedAgoMs;
    for (const s of snap.instances) {
      const instance = this.#slots[s.index];
      if (!instance) throw new Error(`${this.#unit.name}: the state has instance ${s.index}, the unit ${this.#slots.length}`);
      restoreInstance(instance, s, (spec) => adopt.call(this.#env, this.#unit, s.index, spec));
    }
  }

  #busy(what: string): LauncherError {
    const running = this.#stopping ? 'a stop' : this.#restarting ? 'a restart' : 'a start';
    return new LauncherError('LAUNCHER_BUSY', `${this.#unit.name}: cannot ${what} while ${running} is under way`, {
      unit: this.#unit.name,
    });
  }
}

function startReport(instance: Instance): RestartReport['instances'][number] {
  const r = instance.record!;
  return { index: instance.index, oldPid: null, newPid: r.pid, readyMs: r.readyAt !== null ? r.readyAt - r.spawnedAt : 0, drainMs: 0 };
}
