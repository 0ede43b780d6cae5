// entrypoint/signals: the launcher's signal policy, driven by emitting the signals'
// events in-process (no signal is really sent): TERM/INT stop, a second one kills,
// HUP reloads, USR2 upgrades, USR1/QUIT/WINCH are logged and ignored. Whether a
// shutdown is under way is the caller's state (up.ts's Shutdown), asked each time.
import { afterEach, describe, expect, it } from 'vitest';
import { installSignals } from '../../src/entrypoint/signals.js';
import type { Logger } from '../../src/entrypoint/log.js';

let uninstall: (() => void) | undefined;
afterEach(() => uninstall?.());

function install(alreadyStopping = false) {
  const calls: string[] = [];
  const events: string[] = [];
  const logger = { event: (level: string, message: string) => events.push(`${level}: ${message}`) } as unknown as Logger;
  uninstall = installSignals({
    logger,
    stop: (signal) => calls.push(`stop ${signal}`),
    // As in up.ts: a stop begins the shutdown, so the next TERM/INT finds one under way.
    shuttingDown: () => alreadyStopping || calls.some((c) => c.startsWith('stop')),
    kill: () => calls.push('kill'),
    reload: () => calls.push('reload'),
    upgrade: () => calls.push('upgrade'),
  });
  const send = (signal: NodeJS.Signals): boolean => process.emit(signal, signal);
  return { calls, events, send };
}

describe('installSignals', () => {
  it('stops on the first TERM or INT and kills on the next', () => {
    const { calls, events, send } = install();
    send('SIGTERM');
    expect(calls).toEqual(['stop SIGTERM']);
    send('SIGINT');
    expect(calls).toEqual(['stop SIGTERM', 'kill']);
    expect(events).toEqual(['warn: SIGINT again: killing every service now']);
  });

  it('kills at once when a shutdown is already under way (`down`, or every service ended)', () => {
    const { calls, send } = install(true);
    send('SIGINT');
    expect(calls).toEqual(['kill']);
  });

  it('reloads on HUP, upgrades on USR2, and logs the signals it ignores', () => {
    const { calls, events, send } = install();
    send('SIGHUP');
    send('SIGUSR2');
    for (const signal of ['SIGUSR1', 'SIGQUIT', 'SIGWINCH'] as const) send(signal);
    expect(calls).toEqual(['reload', 'upgrade']);
    expect(events).toEqual([
      'info: SIGHUP received: reloading the unit directory',
      'info: SIGUSR2 received: upgrading the launcher in place',
      ...['SIGUSR1', 'SIGQUIT', 'SIGWINCH'].map((s) => `info: ${s} received, ignoring (see docs/container.md)`),
    ]);
  });

  it('removes every handler it installed', () => {
    const signals = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];
    const before = signals.map((s) => process.listenerCount(s));
    install();
    uninstall!();
    uninstall = undefined;
    expect(signals.map((s) => process.listenerCount(s))).toEqual(before);
  });
});
