// Every state x event cell of the transition table, driven on a real Instance
// with the fake env: the resulting state, and no side effect at all for no-ops.
import { describe, expect, it } from 'vitest';
import { Instance } from '../../src/supervisor/instance.js';
import { EVENT_TYPES, STATES, type EventType, type InstanceEvent, type State } from '../../src/supervisor/states.js';
import { TRANSITIONS } from '../../src/supervisor/table.js';
import { FakeEnv, makeUnit } from '../helpers/fake-env.js';

// ready = notify (so starting lasts), on-failure, burst 2 (backoff after one crash, failed after two).
const unit = makeUnit({ ready: 'notify', startLimitBurst: 2, watchdogMs: 1_000 });

function exitedEvent(code: number): InstanceEvent {
  return { type: 'exited', status: { code, signal: null } };
}

/** A fresh instance driven into `state` through ordinary events. */
function instanceIn(state: State, env: FakeEnv): Instance {
  const waits = state === 'waiting';
  const i = new Instance(unit, 0, env, { awaitsActivation: () => waits });
  const go = (...events: InstanceEvent[]): Instance => {
    for (const e of events) i.dispatch(e);
    return i;
  };
  switch (state) {
    case 'inactive':
      return i;
    case 'waiting':
    case 'starting':
      return go({ type: 'start' });
    case 'running':
      return go({ type: 'start' }, { type: 'ready' });
    case 'stopping':
      return go({ type: 'start' }, { type: 'ready' }, { type: 'stop' });
    case 'backoff':
      return go({ type: 'start' }, exitedEvent(1));
    case 'failed':
      return go({ type: 'start' }, exitedEvent(1), { type: 'backoff_elapsed' }, exitedEvent(1));
  }
}

function eventOf(type: EventType): InstanceEvent {
  if (type === 'exited') return exitedEvent(1);
  if (type === 'extend_timeout') return { type, ms: 60_000 };
  return { type } as InstanceEvent;
}

/** Where each cell leaves the instance (written independently of table.ts). */
const EXPECTED: Record<State, Partial<Record<EventType, State>>> = {
  inactive: { start: 'starting' },
  waiting: { activate: 'starting', stop: 'inactive' },
  starting: { stop: 'stopping', ready: 'running', exited: 'backoff', ready_timeout: 'stopping', notify_stopping: 'stopping' },
  running: { stop: 'stopping', exited: 'backoff', watchdog_timeout: 'stopping', notify_stopping: 'stopping' },
  stopping: { exited: 'inactive' },
  backoff: { start: 'starting', stop: 'inactive', backoff_elapsed: 'starting' },
  failed: { start: 'starting', stop: 'inactive' },
};

describe('transition table', () => {
  for (const state of STATES) {
    for (const type of EVENT_TYPES) {
      const action = TRANSITIONS[state][type];
      it(`${state} x ${type} -> ${action}`, () => {
        const env = new FakeEnv();
        const i = instanceIn(state, env);
        expect(i.state).toBe(state);
        const before = { spawns: env.children.length, signals: env.children.flatMap((c) => c.signals).length, timers: env.timerOps };
        let transitions = 0;
        i.onTransition(() => transitions++);

        i.dispatch(eventOf(type));

        expect(i.state).toBe(EXPECTED[state][type] ?? state);
        if (action === 'noop') {
          const after = { spawns: env.children.length, signals: env.children.flatMap((c) => c.signals).length, timers: env.timerOps };
          expect(after).toEqual(before);
          expect(transitions).toBe(0);
        }
      });
    }
  }

  it('names an action for every cell', () => {
    for (const state of STATES) for (const type of EVENT_TYPES) expect(typeof TRANSITIONS[state][type]).toBe('string');
  });
});
