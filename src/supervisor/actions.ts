// The small named actions the transition table picks. Each does one thing to
// one instance; the choice of action per state lives in table.ts, not here.
import { asLauncherError } from '../errors.js';
import type { Child, ExitStatus } from './contract.js';
import type { ChildRecord, Instance } from './instance.js';
import type { InstanceEvent } from './states.js';
import type { ActionName } from './table.js';
import { backoffDelay, describeExit, isCleanExit, isStableRun, shouldRestart, startLimitHit } from './policy.js';

type Action = (instance: Instance, event: InstanceEvent) => void;

/** Spawns the child and enters `starting`; a spawn that throws is handled like a failed start. */
function spawnChild(i: Instance, reason: string): void {
  let child: Child;
  try {
    child = i.env.spawn(i.unit, i.index);
  } catch (error) {
    const message = asLauncherError(error).message;
    i.log('error', `cannot start: ${message}`);
    i.startTimes.push(i.env.now());
    afterExit(i, null, `spawn failed: ${message}`, false, 0);
    return;
  }
  const record: ChildRecord = {
    child,
    pid: child.pid,
    extraPids: new Set(),
    spawnedAt: i.env.now(),
    readyAt: null,
    failure: null,
    stopRequested: false,
    reloading: false,
  };
  i.startTimes.push(record.spawnedAt);
  i.record = record;
  i.lastChild = child;
  i.statusText = null;
  i.moveTo('starting', `${reason}; spawned pid ${child.pid}`);
  // Only the current child's exit is an event; a stale record's exit was already handled.
  void child.exited.then((status) => {
    if (i.record === record) i.dispatch({ type: 'exited', status });
  });
  i.dispatch({ type: 'spawned' });
}

/**
 * After a child's end that nobody requested: failed/inactive for good,
 * `failed` at the start limit, or `backoff` with the doubled delay.
 */
function afterExit(i: Instance, status: ExitStatus | null, failure: string | null, wasReady: boolean, runMs: number): void {
  const svc = i.unit.service;
  i.lastExit = status;
  i.lastFailure = failure;
  const what = failure ?? describeExit(status);
  if (i.probation || !shouldRestart(svc.restart, failure !== null)) {
    i.moveTo(failure !== null ? 'failed' : 'inactive', what, status);
    return;
  }
  if (isStableRun(wasReady, runMs, svc.startLimitIntervalMs)) i.consecutiveRestarts = 0;
  if (startLimitHit(i.startTimes, i.env.now(), svc.startLimitBurst, svc.startLimitIntervalMs)) {
    i.moveTo('failed', `${what}; start limit hit (more than ${svc.startLimitBurst} starts within ${svc.startLimitIntervalMs} ms)`, status);
    return;
  }
  const delay = backoffDelay(i.consecutiveRestarts, svc.restartDelayMs, svc.restartDelayMaxMs);
  i.consecutiveRestarts += 1;
  i.arm('backoff', delay, 'backoff_elapsed');
  i.moveTo('backoff', `${what}; restarting in ${delay} ms`, status);
}

/** The current child's record; the table only picks child actions in states that have one. */
function current(i: Instance): ChildRecord {
  if (!i.record) throw new Error(`${i.unit.name}[${i.index}]: no child in state ${i.state}`);
  return i.record;
}

function exitStatusOf(event: InstanceEvent): ExitStatus {
  if (event.type !== 'exited') throw new Error(`expected an exited event, got ${event.type}`);
  return event.status;
}

function armWatchdog(i: Instance): void {
  if (i.unit.service.watchdogMs > 0) i.arm('watchdog', i.unit.service.watchdogMs, 'watchdog_timeout');
}

/** Kills the child for a missed deadline: its exit will be a failure whatever its status. */
function killForFailure(i: Instance, failure: string, signal: NodeJS.Signals): void {
  const record = current(i);
  record.failure = failure;
  i.disarmAll();
  i.log('error', `${failure}, sending ${signal}`);
  record.child.kill(signal);
  i.arm('stop', i.unit.service.stopTimeoutMs, 'stop_timeout');
  i.moveTo('stopping', `${failure}; sent ${signal}`);
}

function startedReason(readyAfterMs: number): string {
  return readyAfterMs === 0 ? 'spawned (ready = "started")' : `up for ready_after (${readyAfterMs} ms)`;
}

/**
 * Why a child's own exit counts as a failure, or null. Before it was ready: always, except a
 * clean exit of a ready = "started" child outside a handoff (a short job that is done is not a
 * failure; a handoff candidate fails by any exit before ready, see afterExit).
 */
function exitFailure(i: Instance, record: ChildRecord, status: ExitStatus): string | null {
  if (record.failure !== null) return record.failure;
  if (record.readyAt !== null) return isCleanExit(status) ? null : describeExit(status);
  const svc = i.unit.service;
  if (svc.ready === 'started') {
    if (isCleanExit(status) && !i.probation) return null;
    return `exited within ready_after (${svc.readyAfterMs} ms) of its start (${describeExit(status)})`;
  }
  return `exited before ready (${describeExit(status)})`;
}

function handleExit(i: Instance, event: InstanceEvent): void {
  const record = current(i);
  const status = exitStatusOf(event);
  i.record = null;
  i.disarmAll();
  const wasReady = record.readyAt !== null;
  afterExit(i, status, exitFailure(i, record, status), wasReady, i.env.now() - record.spawnedAt);
}

/** Every action by name; the table (table.ts) picks which one runs. */
export const ACTIONS: { readonly [A in ActionName]: Action } = {
  noop: () => {},
  begin: (i) => {
    // A manual start is a fresh start: forget the start history and any failure.
    i.consecutiveRestarts = 0;
    i.startTimes = [];
    i.lastFailure = null;
    if (i.awaitsActivation()) i.moveTo('waiting', 'waiting for the first connection');
    else spawnChild(i, 'start requested');
  },
  spawn: (i) => spawnChild(i, 'activated'),
  spawnNow: (i) => {
    i.disarm('backoff');
    i.consecutiveRestarts = 0;
    spawnChild(i, 'start requested during backoff');
  },
  restartAfterBackoff: (i) => {
    i.restarts += 1;
    spawnChild(i, `restart #${i.restarts}`);
  },
  // ready = "started": ready once the child has stayed up ready_after (0: at once), so a version that
  // dies at start-up fails its handoff. ready_timeout = 0 means no deadline (systemd's "infinity").
  awaitReadiness: (i) => {
    const svc = i.unit.service;
    if (svc.ready === 'started' && svc.readyAfterMs === 0) ACTIONS.becomeRunning(i, { type: 'ready' });
    else if (svc.ready === 'started') i.arm('ready', svc.readyAfterMs, 'ready');
    else if (svc.readyTimeoutMs > 0) i.arm('ready', svc.readyTimeoutMs, 'ready_timeout');
  },
  becomeRunning: (i) => {
    const record = current(i);
    record.readyAt = i.env.now();
    i.disarm('ready');
    armWatchdog(i);
    i.moveTo('running', i.unit.service.ready === 'started' ? startedReason(i.unit.service.readyAfterMs) : 'READY=1');
  },
  acknowledgeReload: (i) => {
    const record = current(i);
    if (!record.reloading) return;
    record.reloading = false;
    i.log('info', 'reload finished (READY=1)');
  },
  markReloading: (i) => {
    current(i).reloading = true;
    i.log('info', 'reloading (RELOADING=1)');
  },
  handleExit,
  finishStopping: (i, event) => {
    const record = current(i);
    if (!record.stopRequested) return handleExit(i, event);
    const status = exitStatusOf(event);
    i.record = null;
    i.disarmAll();
    i.lastExit = status;
    i.moveTo('inactive', `stopped (${describeExit(status)})`, status, true);
  },
  requestStop: (i) => {
    const record = current(i);
    if (record.stopRequested) return; // already on its way: the first request's timer stands
    record.stopRequested = true;
    const signal = i.unit.service.stopSignal;
    i.disarmAll();
    record.child.kill(signal);
    i.arm('stop', i.unit.service.stopTimeoutMs, 'stop_timeout');
    if (i.state !== 'stopping') i.moveTo('stopping', `stop requested; sent ${signal}`);
    else i.log('info', `stop requested; sent ${signal}`);
  },
  deactivate: (i) => i.moveTo('inactive', 'stop requested'),
  cancelBackoff: (i) => {
    i.disarm('backoff');
    i.moveTo('inactive', 'stop requested; pending restart cancelled');
  },
  killForReadyTimeout: (i) => killForFailure(i, `missed ready_timeout`, i.unit.service.stopSignal),
  killForWatchdog: (i) => killForFailure(i, 'watchdog timeout', 'SIGABRT'),
  sigkill: (i) => {
    i.log('warn', `still running ${i.unit.service.stopTimeoutMs} ms after the stop signal, sending SIGKILL`);
    current(i).child.kill('SIGKILL');
  },
  rearmWatchdog: (i) => armWatchdog(i),
  enterSelfStopping: (i) => {
    i.disarmAll();
    // As systemd: a service on its way out still gets stop_timeout, then SIGKILL (EXTEND_TIMEOUT_USEC extends it).
    i.arm('stop', i.unit.service.stopTimeoutMs, 'stop_timeout');
    i.moveTo('stopping', 'STOPPING=1');
  },
  extendReadyTimeout: (i, event) => {
    if (event.type === 'extend_timeout' && i.extend('ready', event.ms, 'ready_timeout')) {
      i.log('info', `ready_timeout extended to ${event.ms} ms from now (EXTEND_TIMEOUT_USEC)`);
    }
  },
  extendStopTimeout: (i, event) => {
    if (event.type === 'extend_timeout' && i.extend('stop', event.ms, 'stop_timeout')) {
      i.log('info', `stop_timeout extended to ${event.ms} ms from now (EXTEND_TIMEOUT_USEC)`);
    }
  },
};
