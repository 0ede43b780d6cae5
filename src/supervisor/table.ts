// The one transition table: state x event -> named action, every cell written
// out (s6-style), so a reader sees at a glance what each event does in each
// state and which combinations are deliberately ignored ('noop').
import type { EventType, State } from './states.js';

/** The named actions the table can pick; their code lives in actions.ts. */
export type ActionName =
  | 'noop' // the event means nothing in this state (stale timer, late datagram, repeated request)
  | 'begin' // manual start: clear the start history (and a failure), then wait for activation or spawn
  | 'spawn' // on-demand activation: spawn now
  | 'spawnNow' // manual start during backoff: cancel the delay and spawn
  | 'restartAfterBackoff' // the restart delay elapsed: spawn again, counting a restart
  | 'awaitReadiness' // spawned: ready at once (ready = "started") or arm ready_timeout (ready = "notify")
  | 'becomeRunning' // READY=1: the child serves; arm the watchdog
  | 'acknowledgeReload' // READY=1 after RELOADING=1: the reload finished
  | 'markReloading' // RELOADING=1: note it; the state stays running
  | 'handleExit' // the child exited on its own: apply the restart policy
  | 'finishStopping' // exited while stopping: inactive if the stop was requested, else the restart policy
  | 'requestStop' // stop_signal, arm stop_timeout; no restart afterwards
  | 'deactivate' // nothing runs: go inactive (from waiting or failed)
  | 'cancelBackoff' // stop during backoff: drop the pending restart
  | 'killForReadyTimeout' // missed ready_timeout: stop_signal, then SIGKILL; the exit is a failure
  | 'killForWatchdog' // missed watchdog: SIGABRT, then SIGKILL; the exit is a failure
  | 'sigkill' // stop_timeout elapsed: SIGKILL
  | 'rearmWatchdog' // WATCHDOG=1: restart the watchdog timer
  | 'enterSelfStopping' // STOPPING=1: not ready any more; its exit still meets the restart policy
  | 'extendReadyTimeout' // EXTEND_TIMEOUT_USEC while starting
  | 'extendStopTimeout'; // EXTEND_TIMEOUT_USEC while stopping

type Row = { readonly [E in EventType]: ActionName };

/**
 * TRANSITIONS[state][event] is the action an instance runs; the type forces
 * every cell to be written. Timers and child exits are gated to the current
 * child before dispatch, so the 'noop' cells for them only ever see stale
 * events; the other 'noop' cells are requests that mean nothing in that state
 * (start while running, activate while inactive, a late WATCHDOG=1, ...).
 */
export const TRANSITIONS: { readonly [S in State]: Row } = {
  inactive: {
    start: 'begin',
    activate: 'noop',
    stop: 'noop',
    spawned: 'noop',
    ready: 'noop',
    exited: 'noop',
    ready_timeout: 'noop',
    stop_timeout: 'noop',
    backoff_elapsed: 'noop',
    watchdog_ping: 'noop',
    watchdog_timeout: 'noop',
    notify_stopping: 'noop',
    notify_reloading: 'noop',
    extend_timeout: 'noop',
  },
  waiting: {
    start: 'noop',
    activate: 'spawn',
    stop: 'deactivate',
    spawned: 'noop',
    ready: 'noop',
    exited: 'noop',
    ready_timeout: 'noop',
    stop_timeout: 'noop',
    backoff_elapsed: 'noop',
    watchdog_ping: 'noop',
    watchdog_timeout: 'noop',
    notify_stopping: 'noop',
    notify_reloading: 'noop',
    extend_timeout: 'noop',
  },
  starting: {
    start: 'noop',
    activate: 'noop',
    stop: 'requestStop',
    spawned: 'awaitReadiness',
    ready: 'becomeRunning',
    exited: 'handleExit',
    ready_timeout: 'killForReadyTimeout',
    stop_timeout: 'noop',
    backoff_elapsed: 'noop',
    watchdog_ping: 'noop',
    watchdog_timeout: 'noop',
    notify_stopping: 'enterSelfStopping',
    notify_reloading: 'noop',
    extend_timeout: 'extendReadyTimeout',
  },
  running: {
    start: 'noop',
    activate: 'noop',
    stop: 'requestStop',
    spawned: 'noop',
    ready: 'acknowledgeReload',
    exited: 'handleExit',
    ready_timeout: 'noop',
    stop_timeout: 'noop',
    backoff_elapsed: 'noop',
    watchdog_ping: 'rearmWatchdog',
    watchdog_timeout: 'killForWatchdog',
    notify_stopping: 'enterSelfStopping',
    notify_reloading: 'markReloading',
    extend_timeout: 'noop',
  },
  stopping: {
    start: 'noop',
    activate: 'noop',
    stop: 'requestStop',
    spawned: 'noop',
    ready: 'noop',
    exited: 'finishStopping',
    ready_timeout: 'noop',
    stop_timeout: 'sigkill',
    backoff_elapsed: 'noop',
    watchdog_ping: 'noop',
    watchdog_timeout: 'noop',
    notify_stopping: 'noop',
    notify_reloading: 'noop',
    extend_timeout: 'extendStopTimeout',
  },
  backoff: {
    start: 'spawnNow',
    activate: 'noop',
    stop: 'cancelBackoff',
    spawned: 'noop',
    ready: 'noop',
    exited: 'noop',
    ready_timeout: 'noop',
    stop_timeout: 'noop',
    backoff_elapsed: 'restartAfterBackoff',
    watchdog_ping: 'noop',
    watchdog_timeout: 'noop',
    notify_stopping: 'noop',
    notify_reloading: 'noop',
    extend_timeout: 'noop',
  },
  failed: {
    start: 'begin',
    activate: 'noop',
    stop: 'deactivate',
    spawned: 'noop',
    ready: 'noop',
    exited: 'noop',
    ready_timeout: 'noop',
    stop_timeout: 'noop',
    backoff_elapsed: 'noop',
    watchdog_ping: 'noop',
    watchdog_timeout: 'noop',
    notify_stopping: 'noop',
    notify_reloading: 'noop',
    extend_timeout: 'noop',
  },
};
