// restart()/replace() on the fake env: overlap, stop-first, rolling, rollback
// when the new child fails, and refusal of concurrent operations.
import { describe, expect, it } from 'vitest';
import { UnitSupervisor, type RestartReport } from '../../src/supervisor/index.js';
import type { SupervisorEvent } from '../../src/supervisor/contract.js';
import type { ServiceSpec } from '../../src/units/types.js';
import { FakeEnv, datagram, flush, makeUnit, type FakeChild } from '../helpers/fake-env.js';

async function running(service: Partial<ServiceSpec> = {}) {
  const env = new FakeEnv();
  const sup = new UnitSupervisor(makeUnit(service), env);
  const starting = sup.start();
  await flush();
  if (service.ready === 'notify') for (const c of env.children) sup.notify(datagram(c.pid, { READY: '1' }));
  await starting;
  return { env, sup };
}

/** Lets every signalled child exit, as each is signalled, until none is left to signal. */
async function obeyStopSignals(env: FakeEnv): Promise<void> {
  for (;;) {
    await flush();
    const signalled = env.alive().filter((c) => c.signals.length > 0);
    if (signalled.length === 0) return;
    for (const c of signalled) c.exit('SIGTERM');
  }
}

function track<T>(p: Promise<T>) {
  const box: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  p.then(
    (v) => Object.assign(box, { value: v, settled: true }),
    (e) => Object.assign(box, { error: e, settled: true }),
  );
  return box;
}

describe('overlap restart', () => {
  it('spawns the new child, waits for READY=1, then stops the old one; reports pids and timings', async () => {
    const { env, sup } = await running({ ready: 'notify' });
    const old = env.last();
    const progress: SupervisorEvent[] = [];
    const restart = track(sup.restart({ onProgress: (e) => progress.push(e) }));
    await flush();
    const fresh = env.last();
    expect(fresh).not.toBe(old);
    await env.advance(250);
    expect(old.signals).toEqual([]); // not before the new one is ready
    sup.notify(datagram(fresh.pid, { READY: '1' }));
    await flush();
    expect(old.signals).toEqual(['SIGTERM']);
    await env.advance(40);
    old.exit('SIGTERM');
    await flush();
    expect(restart.settled).toBe(true);
    expect(restart.value).toEqual<RestartReport>({
      unit: 'web',
      instances: [{ index: 0, oldPid: old.pid, newPid: fresh.pid, readyMs: 250, drainMs: 40 }],
    });
    expect(sup.status().instances[0]!.pid).toBe(fresh.pid);
    expect(sup.status().state).toBe('running');
    expect(progress.map((e) => e.phase)).toEqual(['spawned', 'ready', 'draining', 'drained']);
  });

  it('new child exits before ready: rejected with its output, old still running and untouched', async () => {
    const { env, sup } = await running({ ready: 'notify' });
    const old = env.last();
    const restart = sup.restart();
    await flush();
    const fresh = env.last();
    fresh.lines = ['SyntaxError: Unexpected token'];
    fresh.exit(1);
    await expect(restart).rejects.toMatchObject({
      code: 'LAUNCHER_RESTART_FAILED',
      context: { unit: 'web', lastLines: ['SyntaxError: Unexpected token'], exit: { code: 1, signal: null } },
    });
    expect(old.signals).toEqual([]);
    expect(old.alive).toBe(true);
    expect(sup.status()).toMatchObject({ state: 'running', instances: [{ pid: old.pid, state: 'running' }] });
    await env.advance(10_000);
    expect(env.children).toHaveLength(2); // the failed candidate is not restarted
  });

  it('new child misses ready_timeout: killed, rejected, old still serving', async () => {
    const { env, sup } = await running({ ready: 'notify', readyTimeoutMs: 1_000, stopTimeoutMs: 500 });
    const old = env.last();
    const restart = track(sup.restart());
    await flush();
    const fresh = env.last();
    await env.advance(1_000);
    expect(fresh.signals).toEqual(['SIGTERM']);
    await env.advance(500);
    expect(fresh.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(restart.settled).toBe(false); // rejects only once the new child is gone
    fresh.exit('SIGKILL');
    await flush();
    expect(restart.error).toMatchObject({ code: 'LAUNCHER_RESTART_FAILED', context: { reason: 'missed ready_timeout' } });
    expect(old.signals).toEqual([]);
    expect(sup.status().instances[0]).toMatchObject({ pid: old.pid, state: 'running' });
  });

  it('EXTEND_TIMEOUT_USEC from the new child extends its ready_timeout', async () => {
    const { env, sup } = await running({ ready: 'notify', readyTimeoutMs: 1_000 });
    const restart = track(sup.restart());
    await flush();
    const fresh = env.last();
    await env.advance(900);
    sup.notify(datagram(fresh.pid, { EXTEND_TIMEOUT_USEC: '5000000' }));
    await env.advance(4_000);
    expect(fresh.signals).toEqual([]);
    sup.notify(datagram(fresh.pid, { READY: '1' }));
    await flush();
    env.children[0]!.exit('SIGTERM');
    await flush();
    expect(restart.value?.instances[0]?.readyMs).toBe(4_900);
  });

  it('a second restart or a stop while one runs is LAUNCHER_BUSY', async () => {
    const { env, sup } = await running({ ready: 'notify' });
    const first = track(sup.restart());
    await expect(sup.restart()).rejects.toMatchObject({ code: 'LAUNCHER_BUSY', context: { unit: 'web' } });
    await expect(sup.stop()).rejects.toMatchObject({ code: 'LAUNCHER_BUSY' });
    await expect(sup.start()).rejects.toMatchObject({ code: 'LAUNCHER_BUSY' });
    sup.notify(datagram(env.last().pid, { READY: '1' }));
    await flush();
    env.children[0]!.exit('SIGTERM');
    await flush();
    expect(first.value?.instances).toHaveLength(1);
  });

  it('stop({ force: true }) during a restart cuts it short and stops old and new', async () => {
    const { env, sup } = await running({ ready: 'notify' });
    const restart = track(sup.restart());
    await flush();
    const [old, fresh] = env.children as [FakeChild, FakeChild];
    const stopped = sup.stop({ force: true });
    expect(old.signals).toEqual(['SIGTERM']);
    expect(fresh.signals).toEqual(['SIGTERM']);
    old.exit('SIGTERM');
    fresh.exit('SIGTERM');
    await stopped;
    await flush();
    expect(restart.error).toMatchObject({ code: 'LAUNCHER_RESTART_FAILED' });
    expect(sup.status().state).toBe('inactive');
  });
});

describe('stop-first restart', () => {
  it('stops the old child before spawning the new one', async () => {
    const { env, sup } = await running({ handoff: 'stop-first' });
    const old = env.last();
    const restart = track(sup.restart());
    await flush();
    expect(old.signals).toEqual(['SIGTERM']);
    expect(env.children).toHaveLength(1);
    await env.advance(30);
    old.exit('SIGTERM');
    await flush();
    expect(env.children).toHaveLength(2);
    expect(restart.value).toEqual({ unit: 'web', instances: [{ index: 0, oldPid: old.pid, newPid: env.last().pid, readyMs: 0, drainMs: 30 }] });
  });
});

describe('rolling restart', () => {
  it('swaps 4 instances one at a time, never fewer than 4 ready', async () => {
    const { env, sup } = await running({ ready: 'notify', instances: 4 });
    const olds = [...env.children];
    const restart = track(sup.restart());
    for (let k = 0; k < 4; k++) {
      await flush();
      expect(env.alive()).toHaveLength(5); // exactly one new child at a time, next to all 4 old/new serving
      const fresh = env.last();
      expect(fresh.instance).toBe(k);
      sup.notify(datagram(fresh.pid, { READY: '1' }));
      await flush();
      expect(olds[k]!.signals).toEqual(['SIGTERM']);
      expect(olds.slice(k + 1).every((o) => o.signals.length === 0)).toBe(true);
      olds[k]!.exit('SIGTERM');
    }
    await flush();
    expect(restart.value?.instances.map((r) => r.index)).toEqual([0, 1, 2, 3]);
    expect(sup.status().instances.map((i) => i.pid)).toEqual(env.children.slice(4).map((c) => c.pid));
  });

  it('a failure at instance 2 stops the roll-out; instances 2 and 3 keep the old version', async () => {
    const { env, sup } = await running({ ready: 'notify', instances: 4 });
    const olds = [...env.children];
    const restart = track(sup.restart());
    for (let k = 0; k < 2; k++) {
      await flush();
      sup.notify(datagram(env.last().pid, { READY: '1' }));
      await flush();
      olds[k]!.exit('SIGTERM');
    }
    await flush();
    const broken = env.last();
    expect(broken.instance).toBe(2);
    broken.exit(1);
    await flush();
    expect(restart.error).toMatchObject({ code: 'LAUNCHER_RESTART_FAILED', context: { instance: 2 } });
    expect(env.children).toHaveLength(7); // no new child for instance 3
    expect(olds[2]!.alive && olds[3]!.alive).toBe(true);
    expect(olds[2]!.signals.concat(olds[3]!.signals)).toEqual([]);
    const status = sup.status();
    expect(status.state).toBe('running');
    expect(status.instances.map((i) => i.pid)).toEqual([env.children[4]!.pid, env.children[5]!.pid, olds[2]!.pid, olds[3]!.pid]);
  });
});

describe('replace and restart of a unit that is not serving', () => {
  it('replace() spawns children of the new unit and adopts it on success', async () => {
    const { env, sup } = await running();
    const next = makeUnit({ exec: ['server', '--v2'] });
    const replaced = track(sup.replace(next));
    await flush();
    expect(env.last().unit).toBe(next);
    env.children[0]!.exit('SIGTERM');
    await flush();
    expect(replaced.value?.instances[0]?.newPid).toBe(env.last().pid);
    expect(sup.unit).toBe(next);
  });

  it('replace() that fails keeps the old unit', async () => {
    const { env, sup } = await running({ ready: 'notify' });
    const before = sup.unit;
    const replaced = sup.replace(makeUnit({ ready: 'notify', exec: ['broken'] }));
    await flush();
    env.last().exit(1);
    await expect(replaced).rejects.toMatchObject({ code: 'LAUNCHER_RESTART_FAILED' });
    expect(sup.unit).toBe(before);
  });

  it('replace() with more instances starts the extra ones; with fewer stops the surplus', async () => {
    const { env, sup } = await running({ instances: 2 });
    const grow = track(sup.replace(makeUnit({ instances: 3 })));
    await obeyStopSignals(env);
    expect(grow.value?.instances.map((r) => r.oldPid === null)).toEqual([false, false, true]);
    expect(sup.status().instances).toHaveLength(3);
    const shrink = track(sup.replace(makeUnit({ instances: 1 })));
    await obeyStopSignals(env);
    expect(shrink.settled).toBe(true);
    expect(sup.status().instances).toHaveLength(1);
    expect(env.alive()).toHaveLength(1);
  });

  it('restart of a failed unit is a start', async () => {
    const env = new FakeEnv();
    const sup = new UnitSupervisor(makeUnit({ restart: 'no' }), env);
    await sup.start();
    env.last().exit(1);
    await flush();
    expect(sup.status().state).toBe('failed');
    const report = await sup.restart();
    expect(report.instances).toEqual([{ index: 0, oldPid: null, newPid: env.last().pid, readyMs: 0, drainMs: 0 }]);
    expect(sup.status().state).toBe('running');
  });
});
