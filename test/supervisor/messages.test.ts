// sd_notify datagrams as the supervisor applies them: attribution by pid and
// MAINPID, STATUS, STOPPING, RELOADING and the watchdog.
import { describe, expect, it } from 'vitest';
import { UnitSupervisor } from '../../src/supervisor/index.js';
import type { ServiceSpec } from '../../src/units/types.js';
import { FakeEnv, datagram, flush, makeUnit } from '../helpers/fake-env.js';

async function running(service: Partial<ServiceSpec> = {}) {
  const env = new FakeEnv();
  const sup = new UnitSupervisor(makeUnit({ ready: 'notify', ...service }), env);
  const started = sup.start();
  await flush();
  const child = env.last();
  sup.notify(datagram(child.pid, { READY: '1' }));
  await started;
  return { env, sup, child };
}

describe('attribution', () => {
  it('ignores a datagram from a foreign pid, with a warning', async () => {
    const env = new FakeEnv();
    const sup = new UnitSupervisor(makeUnit({ ready: 'notify' }), env);
    void sup.start();
    await flush();
    sup.notify(datagram(4242, { READY: '1', STATUS: 'hijacked' }));
    expect(sup.status().state).toBe('starting');
    expect(sup.status().instances[0]!.statusText).toBeNull();
    expect(env.logs.at(-1)).toMatchObject({ level: 'warn', pid: 4242 });
    expect(env.logs.at(-1)!.message).toMatch(/not one of its processes, ignoring$/);
  });

  it('accepts datagrams from a pid the child named with MAINPID=', async () => {
    const env = new FakeEnv();
    const sup = new UnitSupervisor(makeUnit({ ready: 'notify' }), env);
    const started = sup.start();
    await flush();
    sup.notify(datagram(env.last().pid, { MAINPID: '777' }));
    sup.notify(datagram(777, { READY: '1', STATUS: 'ready via worker' }));
    await started;
    expect(sup.status().instances[0]).toMatchObject({ state: 'running', statusText: 'ready via worker' });
  });

  it('warns about a malformed MAINPID and still applies the rest', async () => {
    const { env, sup, child } = await running();
    sup.notify(datagram(child.pid, { MAINPID: 'abc', STATUS: 'ok' }));
    expect(sup.status().instances[0]!.statusText).toBe('ok');
    expect(env.logs.some((l) => l.level === 'warn' && l.message.includes('MAINPID=abc is not a pid, ignoring'))).toBe(true);
  });

  it('a datagram from an exited child is foreign', async () => {
    const { env, sup, child } = await running({ restart: 'always' });
    child.exit(0);
    await env.advance(100);
    sup.notify(datagram(child.pid, { STATUS: 'ghost' }));
    expect(sup.status().instances[0]!.statusText).toBeNull();
  });
});

describe('STOPPING=1 and RELOADING=1', () => {
  it('STOPPING=1: not ready any more, and the exit after it still meets the restart policy', async () => {
    const { env, sup, child } = await running({ restart: 'always' });
    sup.notify(datagram(child.pid, { STOPPING: '1' }));
    expect(sup.status().state).toBe('stopping');
    expect(child.signals).toEqual([]);
    child.exit(0);
    await flush();
    expect(sup.status().state).toBe('backoff');
    await env.advance(100);
    expect(sup.status().state).toBe('starting');
  });

  it('STOPPING=1 and then a hang: SIGKILL after stop_timeout, as systemd does', async () => {
    const { env, sup, child } = await running({ stopTimeoutMs: 1000 });
    sup.notify(datagram(child.pid, { STOPPING: '1' }));
    await env.advance(999);
    expect(child.signals).toEqual([]);
    await env.advance(1);
    expect(child.signals).toEqual(['SIGKILL']);
    expect(sup.status().state).toBe('stopping');
  });

  it('RELOADING=1 keeps the unit running', async () => {
    const { env, sup, child } = await running();
    sup.notify(datagram(child.pid, { RELOADING: '1', STATUS: 'reloading config' }));
    expect(sup.status()).toMatchObject({ state: 'running', instances: [{ statusText: 'reloading config' }] });
    sup.notify(datagram(child.pid, { READY: '1' }));
    expect(env.logs.some((l) => l.message.includes('reload finished'))).toBe(true);
  });
});

describe('watchdog', () => {
  it('WATCHDOG=1 re-arms; a miss sends SIGABRT, then SIGKILL, and the exit restarts the service', async () => {
    const { env, sup, child } = await running({ watchdogMs: 1_000, stopTimeoutMs: 500 });
    await env.advance(800);
    sup.notify(datagram(child.pid, { WATCHDOG: '1' }));
    await env.advance(800);
    expect(child.signals).toEqual([]);
    await env.advance(200);
    expect(child.signals).toEqual(['SIGABRT']);
    expect(env.logs.some((l) => l.level === 'error' && l.message.includes('watchdog timeout'))).toBe(true);
    await env.advance(500);
    expect(child.signals).toEqual(['SIGABRT', 'SIGKILL']);
    child.exit('SIGKILL');
    await flush();
    expect(sup.status().state).toBe('backoff');
    await env.advance(100);
    expect(env.children).toHaveLength(2);
  });

  it('WATCHDOG=trigger fails the child at once, even if it exits "cleanly"', async () => {
    const { env, sup, child } = await running({ watchdogMs: 60_000 });
    sup.notify(datagram(child.pid, { WATCHDOG: 'trigger' }));
    expect(child.signals).toEqual(['SIGABRT']);
    child.exit(0);
    await flush();
    expect(sup.status().state).toBe('backoff');
  });

  it('no watchdog when watchdog = 0', async () => {
    const { env, child } = await running({ watchdogMs: 0 });
    await env.advance(3_600_000);
    expect(child.signals).toEqual([]);
  });
});
