// The restart policy's pure functions.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { backoffDelay, isCleanExit, isStableRun, shouldRestart, startLimitHit } from '../../src/supervisor/policy.js';
import { notifyEffects } from '../../src/supervisor/notify-message.js';
import { unitState } from '../../src/supervisor/status.js';
import { datagram } from '../helpers/fake-env.js';

describe('policy', () => {
  it('clean exits are status 0 and SIGHUP/SIGINT/SIGTERM/SIGPIPE', () => {
    expect(isCleanExit({ code: 0, signal: null })).toBe(true);
    expect(isCleanExit({ code: 1, signal: null })).toBe(false);
    for (const s of ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE'] as const) expect(isCleanExit({ code: null, signal: s })).toBe(true);
    for (const s of ['SIGKILL', 'SIGSEGV', 'SIGABRT'] as const) expect(isCleanExit({ code: null, signal: s })).toBe(false);
  });

  it('shouldRestart per policy', () => {
    expect([shouldRestart('no', true), shouldRestart('no', false)]).toEqual([false, false]);
    expect([shouldRestart('on-failure', true), shouldRestart('on-failure', false)]).toEqual([true, false]);
    expect([shouldRestart('always', true), shouldRestart('always', false)]).toEqual([true, true]);
  });

  it('backoff doubles from base and never exceeds max', () => {
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, 100, 1_000))).toEqual([100, 200, 400, 800, 1_000]);
    fc.assert(
      fc.property(fc.nat(2_000), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 100_000 }), (n, base, max) => {
        const d = backoffDelay(n, base, max);
        return d <= max && d >= Math.min(base, max) && backoffDelay(n + 1, base, max) >= d;
      }),
    );
  });

  it('start limit counts starts strictly inside the window', () => {
    expect(startLimitHit([0, 100, 200], 300, 3, 1_000)).toBe(true);
    expect(startLimitHit([0, 100, 200], 1_000, 3, 1_000)).toBe(false); // the first start left the window
    expect(startLimitHit([0, 100], 300, 3, 1_000)).toBe(false);
  });

  it('a stable run is a ready run at least start_limit_interval long', () => {
    expect(isStableRun(true, 10_000, 10_000)).toBe(true);
    expect(isStableRun(true, 9_999, 10_000)).toBe(false);
    expect(isStableRun(false, 60_000, 10_000)).toBe(false);
  });

  it('unit state takes the most urgent instance state', () => {
    expect(unitState(['running', 'running'])).toBe('running');
    expect(unitState(['running', 'failed'])).toBe('failed');
    expect(unitState(['running', 'backoff'])).toBe('backoff');
    expect(unitState(['running', 'starting'])).toBe('starting');
    expect(unitState(['waiting'])).toBe('waiting');
    expect(unitState([])).toBe('inactive');
  });
});

describe('notifyEffects', () => {
  it('orders events MAINPID/EXTEND/RELOADING/STOPPING/READY/WATCHDOG and converts microseconds', () => {
    const e = notifyEffects(datagram(1, { WATCHDOG: '1', READY: '1', EXTEND_TIMEOUT_USEC: '1500', MAINPID: '9', STATUS: 'x' }));
    expect(e).toEqual({
      statusText: 'x',
      mainPid: 9,
      events: [{ type: 'extend_timeout', ms: 2 }, { type: 'ready' }, { type: 'watchdog_ping' }],
      warnings: [],
    });
  });

  it('reports malformed fields as warnings and skips unknown keys', () => {
    const e = notifyEffects(datagram(1, { MAINPID: '0', EXTEND_TIMEOUT_USEC: 'soon', WATCHDOG: 'yes', BARRIER: '1' }));
    expect(e.events).toEqual([]);
    expect(e.warnings).toHaveLength(3);
  });
});
