// UnitSupervisor lifecycle scenarios on the fake env: start and readiness,
// restart policy with backoff and start limit, stop escalation, on-demand, settled.
import { describe, expect, it } from 'vitest';
import { UnitSupervisor, type SettledEvent, type TransitionEvent } from '../../src/supervisor/index.js';
import { FakeEnv, datagram, flush, makeUnit } from '../helpers/fake-env.js';
import type { ServiceSpec } from '../../src/units/types.js';

function setup(service: Partial<ServiceSpec> = {}) {
  const env = new FakeEnv();
  const sup = new UnitSupervisor(makeUnit(service), env);
  const transitions: TransitionEvent[] = [];
  sup.on('transition', (t: TransitionEvent) => transitions.push(t));
  return { env, sup, transitions };
}

/** Settles a promise's outcome without awaiting it forever: 'pending' if not yet settled. */
function track<T>(p: Promise<T>): { value: () => T | 'pending'; error: () => unknown } {
  let value: T | 'pending' = 'pending';
  let error: unknown;
  p.then((v) => (value = v), (e) => (error = e));
  return { value: () => value, error: () => error };
}

describe('start and readiness', () => {
  it('ready = "started": running once spawned', async () => {
    const { env, sup, transitions } = setup();
    await sup.start();
    expect(sup.status().state).toBe('running');
    expect(sup.status().instances[0]!.pid).toBe(env.last().pid);
    expect(sup.status().startedAt).toBe(env.clock);
    expect(transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['inactive->starting', 'starting->running']);
    expect(env.logs.some((l) => l.message.includes('inactive -> starting'))).toBe(true);
  });

  it('ready = "notify": starting until READY=1 from the child', async () => {
    const { env, sup } = setup({ ready: 'notify' });
    const started = track(sup.start());
    await flush();
    expect(sup.status().state).toBe('starting');
    expect(started.value()).toBe('pending');
    sup.notify(datagram(env.last().pid, { READY: '1', STATUS: 'warming up' }));
    await flush();
    expect(started.value()).toBeUndefined();
    expect(sup.status().state).toBe('running');
    expect(sup.status().instances[0]!.statusText).toBe('warming up');
  });

  it('starts all instances and resolves when all are ready', async () => {
    const { env, sup } = setup({ ready: 'notify', instances: 3 });
    const started = track(sup.start());
    await flush();
    expect(env.children.map((c) => c.instance)).toEqual([0, 1, 2]);
    sup.notify(datagram(env.children[0]!.pid, { READY: '1' }));
    sup.notify(datagram(env.children[1]!.pid, { READY: '1' }));
    await flush();
    expect(started.value()).toBe('pending');
    sup.notify(datagram(env.children[2]!.pid, { READY: '1' }));
    await flush();
    expect(started.value()).toBeUndefined();
  });

  it('a child that misses ready_timeout is killed and handled as a failure (restart policy applies)', async () => {
    const { env, sup } = setup({ ready: 'notify', readyTimeoutMs: 1_000, restart: 'on-failure' });
    void sup.start().catch(() => {});
    const first = env.last();
    await env.advance(999);
    expect(first.signals).toEqual([]);
    await env.advance(1);
    expect(first.signals).toEqual(['SIGTERM']);
    expect(sup.status().state).toBe('stopping');
    first.exit('SIGTERM'); // a "clean" signal, yet a failure: it was killed for the timeout
    await flush();
    expect(sup.status().state).toBe('backoff');
    await env.advance(100);
    expect(env.children).toHaveLength(2);
    expect(sup.status().instances[0]!.restarts).toBe(1);
  });

  it('a child that exits before READY=1 failed to start: start() rejects when the policy gives up', async () => {
    const { env, sup } = setup({ ready: 'notify', restart: 'no' });
    const started = sup.start();
    env.last().lines = ['listen: address in use'];
    env.last().exit(0);
    await expect(started).rejects.toMatchObject({
      code: 'LAUNCHER_UNIT_FAILED',
      context: { unit: 'web', lastLines: ['listen: address in use'], exit: { code: 0, signal: null } },
    });
    expect(sup.status().state).toBe('failed');
  });

  it('a spawn that throws is a failed start', async () => {
    const { env, sup } = setup({ restart: 'no' });
    env.spawnError = 'exec failed';
    await expect(sup.start()).rejects.toMatchObject({ code: 'LAUNCHER_UNIT_FAILED', context: { reason: 'spawn failed: exec failed' } });
  });
});

describe('restart policy', () => {
  it('crash -> backoff delays 100, 200, 400, ... capped at restart_delay_max', async () => {
    const { env, sup } = setup({ restartDelayMs: 100, restartDelayMaxMs: 500, startLimitBurst: 100 });
    await sup.start();
    const delays: number[] = [];
    for (let k = 0; k < 5; k++) {
      env.last().exit(1);
      await flush();
      expect(sup.status().state).toBe('backoff');
      delays.push(env.pendingTimers()[0]!);
      await env.advance(delays.at(-1)!);
      expect(sup.status().state).toBe('running');
    }
    expect(delays).toEqual([100, 200, 400, 500, 500]);
    expect(sup.status().restarts).toBe(5);
  });

  it('a stable run (>= start_limit_interval) resets the backoff', async () => {
    const { env, sup } = setup({ restartDelayMs: 100, startLimitIntervalMs: 1_000 });
    await sup.start();
    env.last().exit(1);
    await env.advance(100);
    env.last().exit(1);
    await flush();
    expect(env.pendingTimers()).toEqual([200]);
    await env.advance(200);
    await env.advance(1_000); // this run is stable
    env.last().exit(1);
    await flush();
    expect(env.pendingTimers()).toEqual([100]);
  });

  it('more than start_limit_burst starts within start_limit_interval -> failed; a manual start clears it', async () => {
    const { env, sup } = setup({ startLimitBurst: 3, startLimitIntervalMs: 10_000, restartDelayMs: 10 });
    const settled: SettledEvent[] = [];
    sup.on('settled', (e: SettledEvent) => settled.push(e));
    await sup.start();
    for (let k = 0; k < 3; k++) {
      env.last().exit(2);
      await env.advance(1_000);
    }
    expect(env.children).toHaveLength(3);
    expect(sup.status().state).toBe('failed');
    expect(settled).toEqual([{ unit: 'web', state: 'failed', exit: { code: 2, signal: null } }]);
    await sup.start();
    expect(sup.status().state).toBe('running');
    expect(env.children).toHaveLength(4);
  });

  const cases: [ServiceSpec['restart'], number | NodeJS.Signals, 'backoff' | 'inactive' | 'failed'][] = [
    ['no', 0, 'inactive'],
    ['no', 1, 'failed'],
    ['on-failure', 0, 'inactive'],
    ['on-failure', 'SIGTERM', 'inactive'],
    ['on-failure', 'SIGPIPE', 'inactive'],
    ['on-failure', 1, 'backoff'],
    ['on-failure', 'SIGSEGV', 'backoff'],
    ['on-failure', 'SIGKILL', 'backoff'],
    ['always', 0, 'backoff'],
    ['always', 'SIGHUP', 'backoff'],
    ['always', 3, 'backoff'],
  ];
  for (const [restart, how, expected] of cases) {
    it(`restart = ${restart}, exit ${how} -> ${expected}`, async () => {
      const { env, sup } = setup({ restart });
      await sup.start();
      env.last().exit(how);
      await flush();
      expect(sup.status().state).toBe(expected);
    });
  }

  it('settled carries the exit status when a restart = "no" unit exits for good', async () => {
    const { env, sup } = setup({ restart: 'no' });
    await sup.start();
    const settled = new Promise<SettledEvent>((r) => sup.once('settled', r));
    env.last().exit('SIGSEGV');
    expect(await settled).toEqual({ unit: 'web', state: 'failed', exit: { code: null, signal: 'SIGSEGV' } });
  });
});

describe('stop', () => {
  it('sends stop_signal, escalates to SIGKILL after stop_timeout, resolves on exit, no restart', async () => {
    const { env, sup } = setup({ stopSignal: 'SIGINT', stopTimeoutMs: 2_000, restart: 'always' });
    const settled: unknown[] = [];
    sup.on('settled', (e) => settled.push(e));
    await sup.start();
    const child = env.last();
    const stopped = track(sup.stop());
    await flush();
    expect(child.signals).toEqual(['SIGINT']);
    await env.advance(1_999);
    expect(child.signals).toEqual(['SIGINT']);
    await env.advance(1);
    expect(child.signals).toEqual(['SIGINT', 'SIGKILL']);
    expect(stopped.value()).toBe('pending');
    child.exit('SIGKILL');
    await flush();
    expect(stopped.value()).toBeUndefined();
    expect(sup.status().state).toBe('inactive');
    await env.advance(60_000);
    expect(env.children).toHaveLength(1);
    expect(settled).toEqual([]);
  });

  it('EXTEND_TIMEOUT_USEC while stopping pushes the SIGKILL back', async () => {
    const { env, sup } = setup({ stopTimeoutMs: 1_000 });
    await sup.start();
    const child = env.last();
    void sup.stop();
    await env.advance(500);
    sup.notify(datagram(child.pid, { EXTEND_TIMEOUT_USEC: '3000000' }));
    await env.advance(2_999);
    expect(child.signals).toEqual(['SIGTERM']);
    await env.advance(1);
    expect(child.signals).toEqual(['SIGTERM', 'SIGKILL']);
    child.exit('SIGKILL');
  });

  it('a stop during backoff cancels the pending restart', async () => {
    const { env, sup } = setup();
    await sup.start();
    env.last().exit(1);
    await flush();
    await sup.stop();
    expect(sup.status().state).toBe('inactive');
    await env.advance(10_000);
    expect(env.children).toHaveLength(1);
  });

  it('a second stop while one runs is LAUNCHER_BUSY; stop({ force }) joins it', async () => {
    const { env, sup } = setup();
    await sup.start();
    const first = sup.stop();
    await expect(sup.stop()).rejects.toMatchObject({ code: 'LAUNCHER_BUSY' });
    const forced = sup.stop({ force: true });
    env.last().exit('SIGTERM');
    await Promise.all([first, forced]);
    expect(sup.status().state).toBe('inactive');
  });

  it('a stop during start makes the start reject', async () => {
    const { env, sup } = setup({ ready: 'notify' });
    const started = sup.start();
    const stopped = sup.stop();
    env.last().exit('SIGTERM');
    await expect(started).rejects.toMatchObject({ code: 'LAUNCHER_UNIT_FAILED' });
    await stopped;
  });
});

describe('on-demand', () => {
  it('waiting -> activate -> starting -> running', async () => {
    const { env, sup, transitions } = setup({ start: 'on-demand', ready: 'notify' });
    await sup.start();
    expect(sup.status().state).toBe('waiting');
    expect(env.children).toHaveLength(0);
    sup.activate();
    expect(sup.status().state).toBe('starting');
    sup.notify(datagram(env.last().pid, { READY: '1' }));
    expect(sup.status().state).toBe('running');
    expect(transitions.map((t) => t.to)).toEqual(['waiting', 'starting', 'running']);
    sup.activate(); // a second connection changes nothing
    expect(env.children).toHaveLength(1);
  });

  it('after a crash an activated unit restarts without waiting; after a stop it waits again', async () => {
    const { env, sup } = setup({ start: 'on-demand' });
    await sup.start();
    sup.activate();
    env.last().exit(1);
    await env.advance(100);
    expect(sup.status().state).toBe('running');
    const stopped = sup.stop();
    env.last().exit('SIGTERM');
    await stopped;
    await sup.start();
    expect(sup.status().state).toBe('waiting');
  });
});
