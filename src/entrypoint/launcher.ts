// The running launcher: for each unit its bound sockets, notify socket and
// supervisor. Owns the sockets for as long as a unit exists (crash, backoff,
// failed and stopped included); answers the control verbs; applies reloads.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { LauncherError } from '../errors.js';
import type { Unit } from '../units/types.js';
import { bindUnitSockets, closeSocket, type BindOptions, type BoundSocket } from '../sockets/index.js';
import type { InheritedFds } from '../sockets/inherited.js';
import { openNotifySocket, serveNotifySocket, type NotifyHandlers, type NotifySocket } from '../supervisor/notify.js';
import type { SupervisorSnapshot } from '../supervisor/snapshot.js';
import type { AdoptedChildren } from './adopted.js';
import type { LauncherIdentity } from './upgrade-state.js';
import {
  UnitSupervisor,
  PerConnectionSupervisor,
  isPerConnection,
  type RestartReport,
  type ServiceSupervisor,
  type SettledEvent,
} from '../supervisor/index.js';
import { fdWatcher, type Watch } from '../sys/poll.js';
import { close } from '../sys/libc.js';
import { createConnectionEnv, createSupervisorEnv } from './supervisor-env.js';
import { UnitFdStores } from './fd-stores.js';
import { buildStatusReply } from './status.js';
import type { Logger } from './log.js';
import type { StatusReply } from '../control/replies.js';
import type { ExitStatus } from '../supervisor/contract.js';

/** What the launcher holds for one unit. */
/** One unit as the launcher runs it. Read-only outside the Launcher: its methods change it. */
export interface UnitRuntime {
  readonly supervisor: ServiceSupervisor;
  /** Sockets of the unit's current spec, in file order (fds 3..). */
  readonly sockets: readonly BoundSocket[];
  readonly notify: NotifySocket | undefined;
  /** On-demand watches waiting for the first connection. */
  readonly watches: readonly Watch[];
  /**
   * Sockets and notify sockets of a spec some instances still run after a reload's
   * rolling handoff failed partway; closed when the unit goes (or a later reload replaces them).
   */
  readonly retained: readonly RetainedSpec[];
  /** fds the unit's instances handed over with FDSTORE=1; kept until `stop` or removal. */
  readonly fdStores: UnitFdStores;
}

/** What a unit still holds for a spec some of its instances run after a partial handoff. */
export interface RetainedSpec {
  readonly sockets: readonly BoundSocket[];
  readonly notify: NotifySocket | undefined;
}

/** The Launcher's own, mutable view of a UnitRuntime. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type OwnRuntime = Mutable<UnitRuntime>;

export interface LauncherOptions {
  readonly logger: Logger;
  readonly inherited?: InheritedFds;
  /** Claims pids for the reaper from spawn until their exit event. */
  readonly ownPids: Set<number>;
  readonly unitsDir: string | null;
  /** Children carried across an in-place upgrade (their exits come from the reaper). */
  readonly adopted: AdoptedChildren;
}

/** One unit as an in-place upgrade carries it: plain data and fd numbers. */
export interface UnitState {
  readonly unit: Unit;
  readonly sockets: readonly BoundSocket[];
  readonly notify: { readonly fd: number; readonly address: string } | null;
  readonly operatorStopped: boolean;
  readonly fdStores: ReturnType<UnitFdStores['snapshot']>;
  readonly supervisor: SupervisorSnapshot;
}

/**
 * The launcher's units. Emits 'idle' (ExitStatus | null) when, after a unit
 * stopped for good on its own, no unit is running, starting or waiting any more,
 * and 'changed' when a unit or one of its processes came or went.
 */
export class Launcher extends EventEmitter {
  /** The one record of which units run, with their sockets, notify sockets and supervisors. */
  readonly #units = new Map<string, OwnRuntime>();
  /** Sockets per Unit object (spec): a handoff's new children get the new spec's sockets. */
  readonly #socketsOf = new WeakMap<Unit, BoundSocket[]>();
  readonly #notifyOf = new WeakMap<Unit, NotifySocket | undefined>();
  readonly startedAt = Date.now();
  /** Who this launcher is across in-place upgrades (set by `up`; shown by `status`). */
  identity: LauncherIdentity = { startedAt: Date.now(), upgrades: 0, upgradedAt: null, versions: [] };
  readonly #options: LauncherOptions;
  readonly #notifyTag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  /** Units an operator stopped (`launcher stop`) and has not started since: they may come back, so `up` stays. */
  readonly #operatorStopped = new Set<string>();

  constructor(options: LauncherOptions) {
    super();
    this.#options = options;
  }

  get logger(): Logger {
    return this.#options.logger;
  }

  get unitsDir(): string | null {
    return this.#options.unitsDir;
  }

  /**
   * Binds every unit's sockets, all or nothing (throws LAUNCHER_BIND, leaving nothing bound).
   * `takeOver` supplies sockets taken from a crashed launcher's services instead of new ones.
   */
  bindAll(units: readonly Unit[], takeOver?: BindOptions['takeOver']): void {
    const bound: BoundSocket[][] = [];
    try {
      for (const unit of units) bound.push(this.bindFresh(unit, takeOver));
    } catch (error) {
      for (const sockets of bound) sockets.forEach(closeSocket);
      throw error;
    }
    units.forEach((unit, i) => this.adopt(unit, bound[i] ?? []));
  }

  /** Binds `unit`'s sockets (taking inherited fds by name). */
  bindFresh(unit: Unit, takeOver?: BindOptions['takeOver']): BoundSocket[] {
    return bindUnitSockets(unit, { ...(this.#options.inherited ? { inherited: this.#options.inherited } : {}), ...(takeOver ? { takeOver } : {}) });
  }

  /** Creates the runtime of a unit whose sockets are bound; does not start it. */
  adopt(unit: Unit, sockets: BoundSocket[], notify = this.openNotify(unit)): UnitRuntime {
    this.#operatorStopped.delete(unit.name);
    this.#socketsOf.set(unit, sockets);
    this.#notifyOf.set(unit, notify);
    const supervisor = isPerConnection(unit)
      ? new PerConnectionSupervisor(unit, createConnectionEnv(this, this.#options.ownPids, this.#options.adopted))
      : new UnitSupervisor(unit, createSupervisorEnv(this, this.#options.ownPids, this.#options.adopted));
    const fdStores = new UnitFdStores((event) => this.logger.supervisor({ unit: unit.name, ...event }));
    const runtime: OwnRuntime = { supervisor, sockets, notify, watches: [], retained: [], fdStores };
    supervisor.on('settled', (event: SettledEvent) => this.onSettled(runtime, event));
    // Its processes changed: the generation file (crash recovery) is written again.
    supervisor.on('transition', () => this.emit('changed'));
    this.#units.set(unit.name, runtime);
    this.emit('changed');
    return runtime;
  }

  /**
   * Every unit as plain data, for an in-place upgrade. Throws LAUNCHER_BUSY while any
   * unit is starting, stopping or restarting, or runs two specs after a partial handoff.
   */
  snapshotUnits(): UnitState[] {
    return [...this.#units.values()].map((r) => {
      const unit = r.supervisor.unit;
      if (r.retained.length > 0) {
        throw new LauncherError('LAUNCHER_BUSY', `${unit.name}: a reload's handoff failed partway and it runs two versions; restart it first`, { unit: unit.name });
      }
      return {
        unit,
        sockets: r.sockets.map((s) => ({ ...s })),
        notify: r.notify ? { fd: r.notify.fd, address: r.notify.address } : null,
        operatorStopped: this.#operatorStopped.has(unit.name),
        fdStores: r.fdStores.snapshot(),
        supervisor: r.supervisor.snapshot(),
      };
    });
  }

  /**
   * Takes over units carried across an in-place upgrade: the same open sockets and
   * notify sockets, fd stores, and supervisors with their adopted children and timers.
   */
  restoreUnits(states: readonly UnitState[]): void {
    for (const state of states) {
      const { unit } = state;
      const notify = state.notify ? serveNotifySocket(state.notify.fd, state.notify.address, this.#notifyHandlers(unit)) : undefined;
      const runtime = this.adopt(unit, [...state.sockets], notify);
      if (state.operatorStopped) this.#operatorStopped.add(unit.name);
      runtime.fdStores.restore(state.fdStores);
      const { supervisor } = runtime;
      if (supervisor instanceof UnitSupervisor && state.supervisor.kind === 'service') supervisor.restore(state.supervisor);
      else if (supervisor instanceof PerConnectionSupervisor && state.supervisor.kind === 'per-connection') supervisor.restore(state.supervisor);
      else throw new Error(`${unit.name}: the state holds a ${state.supervisor.kind} unit`);
      if (supervisor.status().state === 'waiting') this.armOnDemand(runtime);
    }
  }

  /** A notify socket when the unit reads READY=1 or WATCHDOG=1; abstract, so services under any uid reach it. */
  openNotify(unit: Unit): NotifySocket | undefined {
    if (!needsNotify(unit)) return undefined;
    const address = `@launcher/${this.#notifyTag}/${unit.name}/${randomBytes(3).toString('hex')}`;
    return openNotifySocket(address, this.#notifyHandlers(unit));
  }

  /** Datagrams on `unit`'s notify socket go to its supervisor; passed fds to its fd store. */
  #notifyHandlers(unit: Unit): NotifyHandlers {
    return {
      onMessage: (msg) => {
        const runtime = this.#units.get(unit.name);
        let owner: number | null = null;
        try {
          owner = runtime ? runtime.supervisor.notify(msg) : null;
        } finally {
          // Every passed fd is stored or closed here, whatever the supervisor made of the datagram.
          if (runtime) runtime.fdStores.apply(msg, owner, runtime.supervisor.unit.service.fdStoreMax);
          else for (const fd of msg.fds ?? []) close(fd);
        }
      },
      onIgnored: (reason, pid) => this.logger.supervisor({ unit: unit.name, level: 'warn', pid, message: `notify datagram ${reason}, ignoring` }),
    };
  }

  /** Starts a unit: eager units now; on-demand units wait for their first connection or datagram. */
  async startUnit(runtime: UnitRuntime): Promise<void> {
    const { supervisor } = runtime;
    await supervisor.start();
    // A reload may have retired the unit while it started: nothing of it is watched any more.
    if (supervisor.status().state === 'waiting' && this.#units.get(supervisor.unit.name) === runtime) this.armOnDemand(runtime);
  }

  /** Watches an on-demand unit's sockets; the first readable one starts the service (which then accepts). */
  armOnDemand(unitRuntime: UnitRuntime): void {
    const runtime = this.#own(unitRuntime);
    this.disarm(runtime);
    const fire = (): void => {
      this.disarm(runtime);
      this.logger.supervisor({ unit: runtime.supervisor.unit.name, level: 'info', message: 'activity on its socket, starting' });
      runtime.supervisor.activate();
    };
    runtime.watches = runtime.sockets.map((s) => fdWatcher().watch(s.fd, fire, { oneshot: true }));
  }

  disarm(unitRuntime: UnitRuntime): void {
    const runtime = this.#own(unitRuntime);
    for (const w of runtime.watches) w.cancel();
    runtime.watches = [];
  }

  private onSettled(runtime: UnitRuntime, event: SettledEvent): void {
    const unit = runtime.supervisor.unit;
    // An on-demand service that ended cleanly goes back to waiting for traffic, like a systemd socket unit.
    // Deferred: 'settled' is emitted from inside the instance's own transition, where a start would only be
    // queued and the supervisor would read the still-inactive instance as "stopped before it was ready".
    if (unit.service.start === 'on-demand' && event.state === 'inactive') {
      queueMicrotask(() => {
        if (this.#units.get(unit.name) !== runtime) return; // shut down or replaced meanwhile
        this.startUnit(runtime).catch((error: unknown) =>
          this.logger.supervisor({ unit: unit.name, level: 'error', message: `cannot wait for traffic again: ${(error as Error).message}` }),
        );
      });
      return;
    }
    if (!this.endedForGood()) return;
    this.emit('idle', event.exit);
  }

  /**
   * True when nothing runs, starts or waits any more and no unit is merely stopped by an
   * operator: `up` ends by itself only when every unit has ended on its own (SPEC).
   */
  endedForGood(): boolean {
    for (const [name, r] of this.#units) {
      if (this.#operatorStopped.has(name)) return false;
      if (!['inactive', 'failed'].includes(r.supervisor.status().state)) return false;
    }
    return true;
  }

  /**
   * The largest stop_timeout among the units held now (at least 1 s): how long orphans get
   * after the services stopped (drain.ts), and what `down` tells its client to expect.
   */
  largestStopTimeoutMs(): number {
    return Math.max(1000, ...[...this.#units.values()].map((r) => r.supervisor.unit.service.stopTimeoutMs));
  }

  /** Every unit's runtime, in load order. */
  runtimes(): UnitRuntime[] {
    return [...this.#units.values()];
  }

  has(name: string): boolean {
    return this.#units.has(name);
  }

  /** The runtime of `name`, or undefined (see get() for an error instead). */
  find(name: string): UnitRuntime | undefined {
    return this.#units.get(name);
  }

  get size(): number {
    return this.#units.size;
  }

  /**
   * The sockets of `unit`'s spec (the running one, or one a reload is handing off to).
   * A spec the launcher never took is a bug: it throws rather than start a service with no sockets.
   */
  socketsFor(unit: Unit): BoundSocket[] {
    const sockets = this.#socketsOf.get(unit);
    if (!sockets) throw new LauncherError('LAUNCHER_INTERNAL', `${unit.name}: no sockets recorded for this spec of the unit`, { unit: unit.name });
    return sockets;
  }

  /** The notify socket of `unit`'s spec (undefined when it reads none); throws like socketsFor on an unknown spec. */
  notifyFor(unit: Unit): NotifySocket | undefined {
    if (!this.#notifyOf.has(unit)) throw new LauncherError('LAUNCHER_INTERNAL', `${unit.name}: no notify socket recorded for this spec of the unit`, { unit: unit.name });
    return this.#notifyOf.get(unit);
  }

  /** Records the sockets and notify socket a new spec of a running unit will use (a reload's handoff). */
  prepareSpec(unit: Unit, sockets: BoundSocket[], notify: NotifySocket | undefined): void {
    this.#socketsOf.set(unit, sockets);
    this.#notifyOf.set(unit, notify);
  }

  /**
   * A reload's handoff of `runtime` to the spec `unit` completed: every instance runs it, with
   * `sockets` and `notify` (recorded by prepareSpec). Closes the notify sockets nothing reads
   * any more; the old sockets are the reload's to close (another unit may have kept them).
   */
  completeHandoff(unitRuntime: UnitRuntime, unit: Unit, sockets: BoundSocket[], notify: NotifySocket | undefined): void {
    const runtime = this.#own(unitRuntime);
    if (notify !== runtime.notify) runtime.notify?.close();
    for (const r of runtime.retained) if (r.notify !== notify) r.notify?.close();
    runtime.notify = notify;
    runtime.sockets = sockets;
    runtime.retained = [];
    runtime.fdStores.fit(unit.service.instances, unit.service.fdStoreMax);
    if (runtime.supervisor.status().state === 'waiting') this.armOnDemand(runtime);
  }

  /**
   * A reload's rolling handoff failed partway: some instances run the new spec and restart
   * with its sockets and notify socket, so the unit keeps those open until it goes.
   */
  retainPartialHandoff(unitRuntime: UnitRuntime, sockets: BoundSocket[], notify: NotifySocket | undefined): void {
    const runtime = this.#own(unitRuntime);
    runtime.retained = [...runtime.retained, { sockets, notify: notify !== runtime.notify ? notify : undefined }];
  }

  /**
   * Stops a unit a reload removed and forgets it: its children, fd store and notify sockets
   * go; its sockets are the reload's to close (another unit may have kept them).
   */
  async retire(name: string): Promise<void> {
    const runtime = this.#own(this.get(name));
    this.disarm(runtime);
    await runtime.supervisor.stop({ force: true });
    this.#letGo(runtime);
    this.#units.delete(name);
    this.emit('changed');
  }

  /** Drops what a unit whose children are gone holds besides its sockets: watches, fd store, notify sockets. */
  #letGo(runtime: OwnRuntime): void {
    this.disarm(runtime);
    runtime.fdStores.clear();
    runtime.notify?.close();
    for (const r of runtime.retained) r.notify?.close();
  }

  /** The launcher's own record of `runtime`; one it does not hold is a bug. */
  #own(runtime: UnitRuntime): OwnRuntime {
    const own = this.#units.get(runtime.supervisor.unit.name);
    if (own !== runtime) {
      const name = runtime.supervisor.unit.name;
      throw new LauncherError('LAUNCHER_INTERNAL', `${name}: this runtime is not the one the launcher holds`, { unit: name });
    }
    return own;
  }

  /** The runtime of `name`, or LAUNCHER_UNKNOWN_UNIT. */
  get(name: string): UnitRuntime {
    const runtime = this.#units.get(name);
    if (!runtime) throw new LauncherError('LAUNCHER_UNKNOWN_UNIT', `no unit named "${name}"`, { unit: name });
    return runtime;
  }

  /** Names checked first, so an unknown name changes nothing. */
  resolve(names: readonly string[]): UnitRuntime[] {
    return names.map((n) => this.get(n));
  }

  status(names: readonly string[] = []): StatusReply {
    const runtimes = names.length ? this.resolve(names) : this.runtimes();
    return buildStatusReply(this, runtimes);
  }

  async start(names: readonly string[]): Promise<void> {
    const runtimes = this.resolve(names);
    for (const r of runtimes) this.#operatorStopped.delete(r.supervisor.unit.name);
    await Promise.all(runtimes.map((r) => this.startUnit(r)));
  }

  async stop(names: readonly string[]): Promise<void> {
    const runtimes = this.resolve(names);
    for (const r of runtimes) this.#operatorStopped.add(r.supervisor.unit.name);
    await Promise.all(
      runtimes.map(async (r) => {
        this.disarm(r);
        await r.supervisor.stop();
        r.fdStores.clear(); // `stop` releases the fd store (a crash or restart keeps it)
      }),
    );
  }

  /** Restarts units one after another (each by its handoff); the first failure ends the run. */
  async restart(names: readonly string[], onProgress?: (e: object) => void): Promise<RestartReport[]> {
    const reports: RestartReport[] = [];
    for (const runtime of this.resolve(names)) {
      this.#operatorStopped.delete(runtime.supervisor.unit.name);
      this.disarm(runtime);
      reports.push(await runtime.supervisor.restart(onProgress ? { onProgress } : {}));
    }
    return reports;
  }

  /**
   * Stops every service in parallel (cutting handoffs short), then closes every socket.
   * Resolves true when every child ended by its stop signal, false when one had to be SIGKILLed.
   */
  async shutdown(): Promise<boolean> {
    const runtimes = [...this.#units.values()];
    const killed = (): number => runtimes.reduce((sum, r) => sum + r.supervisor.killedOnStop, 0);
    const before = killed();
    runtimes.forEach((r) => this.disarm(r));
    await Promise.allSettled(runtimes.map((r) => r.supervisor.stop({ force: true })));
    for (const r of runtimes) this.release(r);
    this.#units.clear();
    return killed() === before;
  }

  /** Closes a unit's sockets and notify socket (its children must be gone). */
  release(unitRuntime: UnitRuntime): void {
    const runtime = this.#own(unitRuntime);
    this.#letGo(runtime);
    socketsHeldBy(runtime).forEach(closeSocket);
    runtime.sockets = [];
    runtime.notify = undefined;
    runtime.retained = [];
  }
}

/** Every socket a unit holds, once per fd: its current spec's and any retained after a partial handoff. */
export function socketsHeldBy(runtime: UnitRuntime): BoundSocket[] {
  const byFd = new Map<number, BoundSocket>();
  for (const s of [...runtime.sockets, ...runtime.retained.flatMap((r) => r.sockets)]) if (!byFd.has(s.fd)) byFd.set(s.fd, s);
  return [...byFd.values()];
}

/** Whether `unit` reads sd_notify datagrams (readiness, watchdog, or the fd store even with ready = "started"). */
export function needsNotify(unit: Unit): boolean {
  if (isPerConnection(unit)) return false; // a process per connection reads no notify socket
  return unit.service.ready === 'notify' || unit.service.watchdogMs > 0 || unit.service.fdStoreMax > 0;
}

/** The exit code a launcher reports for the last service's status: code, or 128+signal. */
export function exitCodeOf(exit: ExitStatus | null, signals: Record<string, number>): number {
  if (!exit) return 1;
  if (exit.code !== null) return exit.code;
  return 128 + (exit.signal ? (signals[exit.signal] ?? 0) : 0);
}
