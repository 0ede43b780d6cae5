// A supervisor's state carried across an in-place upgrade: snapshot on one fake
// env, restore on another whose clock reads something else entirely (the
// monotonic clock starts over after an exec), and check the unit goes on as if
// nothing happened: same children, counters, start-limit window, and timers
// firing after the time they had left.
import { describe, expect, it } from 'vitest';
import { UnitSupervisor, PerConnectionSupervisor } from '../../src/supervisor/index.js';
import type { ServiceSnapshot } from '../../src/supervisor/snapshot.js';
import { FakeEnv, datagram, makeUnit } from '../helpers/fake-env.js';
import type { ServiceSpec } from '../../src/units/types.js';

/** Snapshot through JSON (as the memfd carries it) and restore into a fresh supervisor on a new env. */
function carry(sup: UnitSupervisor, service: Partial<ServiceSpec> = {}): { env: FakeEnv; sup: UnitSupervisor; snap: ServiceSnapshot } {
  const snap = JSON.parse(JSON.stringify(sup.snapshot())) as ServiceSnapshot;
  const env = new FakeEnv();
  env.clock = 7; // an exec's monotonic clock has nothing to do with the old one
  const next = new UnitSupervisor(makeUnit(service), env);
  next.restore(snap);
  return { env, sup: next, snap };
}

describe('snapshot and restore', () => {
  it('keeps the running children (adopted by pid), their counters and ready times', async () => {
    const service = { instances: 2, restart: 'always' as const };
    const env = new FakeEnv();
    const sup = new UnitSupervisor(makeUnit(service), env);
    await sup.start();
    env.last(0).exit(1); // one crash: restarts 1, in backoff
    await env.advance(100); // restarted
    await env.advance(5_000);
    const before = sup.status();
    const carried = carry(sup, service);
    const after = carried.sup.status();
    expect(after.instances.map((i) => [i.state, i.pid, i.restarts])).toEqual(before.instances.map((i) => [i.state, i.pid, i.restarts]));
    // Times are relative: "running for 5 s" stays true on the new clock.
    expect(carried.env.clock - after.instances[0]!.since).toBe(env.clock - before.instances[0]!.since);
    expect(carried.env.children.map((c) => c.pid).sort()).toEqual(before.instances.map((i) => i.pid).sort());
  });

  it('an adopted child\'s exit is handled by the restart policy; a requested stop reaches it', async () => {
    const env = new FakeEnv();
    const sup = new UnitSupervisor(makeUnit({ restart: 'always' }), env);
    await sup.start();
    const { env: env2, sup: sup2 } = carry(sup, { restart: 'always' });
    const adopted = env2.last();
    adopted.exit('SIGKILL');
    await env2.advance(0);
    expect(sup2.status().state).toBe('backoff');
    await env2.advance(100);
    expect(sup2.status().state).toBe('running');
    expect(sup2.status().instances[0]!.restarts).toBe(1);
    const stopping = sup2.stop();
    expect(env2.last().signals).toEqual(['SIGTERM']);
    env2.last().exit(0);
    await stopping;
    expect(sup2.status().state).toBe('inactive');
  });

  it('a backoff timer fires after the time it had left, not a fresh delay', async () => {
    const env = new FakeEnv();
    const sup = new UnitSupervisor(makeUnit({ restart: 'always', restartDelayMs: 1_000 }), env);
    await sup.start();
    env.last().exit(1);
    await env.advance(300);
    expect(sup.status().state).toBe('backoff');
    const { env: env2, sup: sup2, snap } = carry(sup, { restart: 'always', restartDelayMs: 1_000 });
    expect(snap.instances[0]!.timers).toEqual([{ name: 'backoff', type: 'backoff_elapsed', remainingMs: 700 }]);
    await env2.advance(699);
    expect(sup2.status().state).toBe('backoff');
    await env2.advance(1);
    expect(sup2.status().state).toBe('running');
  });

  it('carries the start-limit window: the burst counts starts from before the upgrade', async () => {
    const service = { restart: 'always' as const, startLimitBurst: 2, startLimitIntervalMs: 10_000, restartDelayMs: 10, restartDelayMaxMs: 10 };
    const env = new FakeEnv();
    const sup = new UnitSupervisor(makeUnit(service), env);
    await sup.start();
    env.last().exit(1);
    await env.advance(10); // second start
    const { env: env2, sup: sup2 } = carry(sup, service);
    env2.last().exit(1); // a third start within 10 s would pass the burst of 2
    await env2.advance(10);
    expect(sup2.status().state).toBe('failed');
  });

  it('keeps the watchdog deadline and MAINPID attribution of a notify child', async () => {
    const service = { ready: 'notify' as const, watchdogMs: 1_000 };
    const env = new FakeEnv();
    const sup = new UnitSupervisor(makeUnit(service), env);
    const started = sup.start();
    const pid = env.last().pid;
    sup.notify(datagram(pid, { READY: '1', MAINPID: '4242' }));
    await started;
    await env.advance(400);
    const { env: env2, sup: sup2 } = carry(sup, service);
    // A ping from the pid it named keeps it alive across the old deadline...
    await env2.advance(500);
    expect(sup2.notify(datagram(4242, { WATCHDOG: '1' }))).toBe(0);
    await env2.advance(900);
    expect(env2.last().signals).toEqual([]);
    // ...and silence past the new one trips it.
    await env2.advance(200);
    expect(env2.last().signals).toEqual(['SIGABRT']);
  });

  it('refuses while a restart runs (busy)', async () => {
    const env = new FakeEnv();
    const sup = new UnitSupervisor(makeUnit({ ready: 'notify' }), env);
    const started = sup.start();
    sup.notify(datagram(env.last().pid, { READY: '1' }));
    await started;
    void sup.restart().catch(() => {});
    expect(() => sup.snapshot()).toThrow(expect.objectContaining({ code: 'LAUNCHER_BUSY' }));
  });

  it('a per-connection unit carries its running connections and accepts again', () => {
    const env = new FakeEnv();
    const unit = makeUnit({}, 'conn');
    const sup = new PerConnectionSupervisor(unit, { ...envFor(env), sockets: () => [] });
    sup.restore({ kind: 'per-connection', accepting: false, next: 5, accepted: 5, killedOnStop: 0, startedAgoMs: null, running: [] });
    expect(sup.snapshot()).toMatchObject({ next: 5, accepted: 5, running: [] });
  });
});

function envFor(env: FakeEnv) {
  return {
    now: () => env.now(),
    setTimer: (ms: number, fn: () => void) => env.setTimer(ms, fn),
    clearTimer: (h: object) => env.clearTimer(h),
    log: (e: Parameters<FakeEnv['log']>[0]) => env.log(e),
    spawn: () => {
      throw new Error('no spawns here');
    },
    adopt: (u: Parameters<FakeEnv['adopt']>[0], n: number, spec: Parameters<FakeEnv['adopt']>[2]) => env.adopt(u, n, spec),
  };
}
