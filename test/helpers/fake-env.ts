// A SupervisorEnv without processes or real time: a clock and timers advanced
// by hand, and fake children whose signals are recorded and whose exit the
// test triggers. Shared by every supervisor test.
import type { Child, ExitStatus, SupervisorEnv, SupervisorEvent, TimerHandle } from '../../src/supervisor/contract.js';
import type { ServiceSpec, Unit } from '../../src/units/types.js';
import { LauncherError } from '../../src/errors.js';

/** A child that records the signals it gets and exits when the test says so. */
export class FakeChild implements Child {
  readonly signals: NodeJS.Signals[] = [];
  readonly exited: Promise<ExitStatus>;
  alive = true;
  lines: string[] = [];
  #resolve!: (status: ExitStatus) => void;

  constructor(
    readonly pid: number,
    readonly unit: Unit,
    readonly instance: number,
    readonly spawnedAt: number,
  ) {
    this.exited = new Promise((resolve) => (this.#resolve = resolve));
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.signals.push(signal);
  }

  lastLines(): readonly string[] {
    return this.lines;
  }

  /** Ends the child: `exit(0)`, `exit(1)` or `exit('SIGKILL')`. */
  exit(how: number | NodeJS.Signals): void {
    if (!this.alive) throw new Error(`pid ${this.pid} already exited`);
    this.alive = false;
    this.#resolve(typeof how === 'number' ? { code: how, signal: null } : { code: null, signal: how });
  }
}

interface FakeTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** Lets pending promise callbacks (child exits, awaits) run. */
export async function flush(): Promise<void> {
  for (let k = 0; k < 5; k++) await new Promise((resolve) => setImmediate(resolve));
}

export class FakeEnv implements SupervisorEnv {
  clock = 1_000;
  readonly children: FakeChild[] = [];
  readonly logs: SupervisorEvent[] = [];
  /** Counts setTimer + clearTimer calls: a no-op must leave it unchanged. */
  timerOps = 0;
  /** When set, the next spawns throw LAUNCHER_SPAWN with this message. */
  spawnError: string | null = null;
  #timers: FakeTimer[] = [];
  #nextTimer = 1;
  #nextPid = 100;

  now(): number {
    return this.clock;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    this.timerOps++;
    const timer = { id: this.#nextTimer++, at: this.clock + ms, fn };
    this.#timers.push(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    this.timerOps++;
    this.#timers = this.#timers.filter((t) => t !== handle);
  }

  spawn(unit: Unit, instance: number): Child {
    if (this.spawnError !== null) throw new LauncherError('LAUNCHER_SPAWN', this.spawnError, { unit: unit.name });
    const child = new FakeChild(this.#nextPid++, unit, instance, this.clock);
    this.children.push(child);
    return child;
  }

  /** Takes over a child from a snapshot (an upgrade's restore): a fake with the same pid. */
  adopt(unit: Unit, instance: number, spec: { pid: number; lastLines: readonly string[] }): Child {
    const child = new FakeChild(spec.pid, unit, instance, this.clock);
    child.lines = [...spec.lastLines];
    this.children.push(child);
    return child;
  }

  log(event: SupervisorEvent): void {
    this.logs.push(event);
  }

  /** Delays (ms from now) of the armed timers, soonest first. */
  pendingTimers(): number[] {
    return this.#timers.map((t) => t.at - this.clock).sort((a, b) => a - b);
  }

  /** Moves the clock forward `ms`, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.clock + ms;
    await flush(); // exits already triggered arm their timers first
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.clock = Math.max(this.clock, due.at);
      due.fn();
      await flush();
    }
    this.clock = end;
    await flush();
  }

  /** The newest child (optionally of one instance). */
  last(instance?: number): FakeChild {
    const pool = instance === undefined ? this.children : this.children.filter((c) => c.instance === instance);
    const child = pool.at(-1);
    if (!child) throw new Error('no child spawned');
    return child;
  }

  alive(): FakeChild[] {
    return this.children.filter((c) => c.alive);
  }
}

/** A valid unit with test-friendly defaults; override any service field. */
export function makeUnit(service: Partial<ServiceSpec> = {}, name = 'web'): Unit {
  return {
    name,
    file: `/units/${name}.toml`,
    service: {
      exec: ['server'],
      execPath: '/usr/bin/server',
      workdir: '/units',
      env: {},
      ready: 'started',
      readyTimeoutMs: 5_000,
      readyAfterMs: 0,
      restart: 'on-failure',
      restartDelayMs: 100,
      restartDelayMaxMs: 1_000,
      startLimitBurst: 5,
      startLimitIntervalMs: 10_000,
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 2_000,
      handoff: 'overlap',
      instances: 1,
      start: 'eager',
      watchdogMs: 0,
      logLines: 1000,
      fdStoreMax: 0,
      stdio: 'pipe',
      ...service,
    },
    sockets: [],
  };
}

/** A notify datagram from `pid` with KEY=VALUE fields. */
export function datagram(pid: number, fields: Record<string, string>): { pid: number; uid: number; fields: Map<string, string> } {
  return { pid, uid: 0, fields: new Map(Object.entries(fields)) };
}
