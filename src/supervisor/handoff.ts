// Swapping a unit's children for new ones: overlap (new ready, then old
// stopped), stop-first (old stopped, then new started), rolled out one
// instance at a time so at most one instance is ever in the middle of a swap.
import { LauncherError } from '../errors.js';
import type { Unit } from '../units/types.js';
import type { SupervisorEnv, SupervisorEvent } from './contract.js';
import type { Instance } from './instance.js';
import { reach } from './reach.js';

/** One swapped instance: pids, spawn→ready of the new child, stop request→exit of the old one. */
export interface InstanceReport {
  readonly index: number;
  readonly oldPid: number | null;
  readonly newPid: number;
  readonly readyMs: number;
  readonly drainMs: number;
}

/** What restart()/replace() resolve with. */
export interface RestartReport {
  readonly unit: string;
  readonly instances: readonly InstanceReport[];
}

/** The parts of a UnitSupervisor a handoff drives. */
export interface HandoffHost {
  readonly env: SupervisorEnv;
  /** slots[i] serves index i; a handoff replaces entries in place. */
  readonly slots: Instance[];
  /** Live instances outside the slots (new candidates, old ones draining): notify and stop reach them too. */
  readonly extras: Set<Instance>;
  newInstance(unit: Unit, index: number, probation: boolean): Instance;
  progress(event: SupervisorEvent): void;
  /** True once a forced stop cut the roll-out short. */
  aborted(): boolean;
}

/**
 * Replaces every instance with one of `unit`, in index order, one at a time.
 * A running instance is swapped by `unit.service.handoff`; one that is not
 * running (backoff, failed, ...) is simply stopped and started anew. Extra
 * instances (`unit` has more) start after the swap; surplus ones stop.
 * The first failure stops the roll-out and rejects LAUNCHER_RESTART_FAILED:
 * swapped instances keep the new version, the rest keep the old one.
 */
export async function rollOut(host: HandoffHost, unit: Unit): Promise<RestartReport> {
  const reports: InstanceReport[] = [];
  const wanted = unit.service.instances;
  for (let index = 0; index < wanted; index++) {
    const old = host.slots[index];
    const overlap = old !== undefined && old.state === 'running' && unit.service.handoff === 'overlap';
    reports.push(overlap ? await overlapSwap(host, unit, index) : await stopFirstSwap(host, unit, index));
  }
  const surplus = host.slots.splice(wanted);
  for (const old of surplus) host.extras.add(old);
  await Promise.all(surplus.map((old) => drain(host, old)));
  return { unit: unit.name, instances: reports };
}

/** New child first; the old one stops only once the new one is ready. */
async function overlapSwap(host: HandoffHost, unit: Unit, index: number): Promise<InstanceReport> {
  const old = host.slots[index]!;
  const oldPid = old.pid;
  const fresh = launch(host, unit, index, true);
  const outcome = await reach(fresh, ['running', 'failed', 'inactive']);
  host.extras.delete(fresh);
  if (outcome !== 'running') throw swapFailed(host, fresh, 'the old child keeps serving');
  const readyMs = readyMsOf(fresh);
  const newPid = fresh.pid!;
  reportReady(host, fresh, readyMs);
  fresh.probation = false;
  fresh.restarts = old.restarts;
  host.slots[index] = fresh;
  host.extras.add(old);
  const drainMs = await drain(host, old);
  return { index, oldPid, newPid, readyMs, drainMs };
}

/** Old child first (or whatever the slot holds when it is not running), then the new one. */
async function stopFirstSwap(host: HandoffHost, unit: Unit, index: number): Promise<InstanceReport> {
  const old = host.slots[index];
  const oldPid = old?.pid ?? null;
  let drainMs = 0;
  if (old) {
    host.extras.add(old);
    drainMs = await drain(host, old);
  }
  const fresh = launch(host, unit, index, false);
  if (old) fresh.restarts = old.restarts;
  host.slots[index] = fresh;
  host.extras.delete(fresh);
  const outcome = await reach(fresh, ['running', 'failed', 'inactive']);
  if (outcome !== 'running') throw swapFailed(host, fresh, 'the instance is down');
  const readyMs = readyMsOf(fresh);
  reportReady(host, fresh, readyMs);
  return { index, oldPid, newPid: fresh.pid!, readyMs, drainMs };
}

/** Creates and starts instance `index` of `unit` (kept in extras until it takes a slot). */
function launch(host: HandoffHost, unit: Unit, index: number, probation: boolean): Instance {
  if (host.aborted()) {
    throw new LauncherError('LAUNCHER_RESTART_FAILED', `${unit.name}: restart cut short by a stop`, { unit: unit.name, instance: index });
  }
  const fresh = host.newInstance(unit, index, probation);
  host.extras.add(fresh);
  fresh.dispatch({ type: 'start' });
  step(host, fresh, 'spawned', `new child ${fresh.pid ?? '(none)'} starting`);
  return fresh;
}

/** Stops `old` and resolves with stop request→exit in ms; removes it from extras. */
async function drain(host: HandoffHost, old: Instance): Promise<number> {
  const started = host.env.now();
  const pid = old.pid;
  step(host, old, 'draining', `stopping old child ${pid ?? '(none)'}`);
  old.dispatch({ type: 'stop' });
  await reach(old, ['inactive']);
  host.extras.delete(old);
  const drainMs = host.env.now() - started;
  step(host, old, 'drained', `old child ${pid ?? '(none)'} gone after ${Math.round(drainMs)} ms`, { ...(pid !== null ? { pid } : {}), drainMs });
  return drainMs;
}

function reportReady(host: HandoffHost, fresh: Instance, readyMs: number): void {
  step(host, fresh, 'ready', `new child ${fresh.pid} ready after ${Math.round(readyMs)} ms`, { readyMs });
}

/** One handoff step as a progress event: `phase` is spawned | ready | draining | drained | failed. */
function step(host: HandoffHost, instance: Instance, phase: string, what: string, extra: Record<string, unknown> = {}): void {
  const name = instance.unit.name;
  const pid = instance.pid;
  host.progress({
    unit: name,
    level: phase === 'failed' ? 'error' : 'info',
    message: `#${instance.index}: ${what}`,
    instance: instance.index,
    ...(pid !== null ? { pid } : {}),
    phase,
    ...extra,
  });
}

function readyMsOf(instance: Instance): number {
  const r = instance.record;
  return r && r.readyAt !== null ? r.readyAt - r.spawnedAt : 0;
}

/** The rejection for a new instance that never got ready, with its output; also reported as progress. */
function swapFailed(host: HandoffHost, fresh: Instance, consequence: string): LauncherError {
  const name = fresh.unit.name;
  const why = fresh.lastFailure ?? 'it was stopped before it was ready';
  const message = `${name}[${fresh.index}]: the new child failed: ${why}; ${consequence}`;
  step(host, fresh, 'failed', `the new child failed: ${why}; ${consequence}`);
  return new LauncherError('LAUNCHER_RESTART_FAILED', message, {
    unit: name,
    instance: fresh.index,
    reason: why,
    exit: fresh.lastExit,
    lastLines: fresh.lastChild ? [...fresh.lastChild.lastLines()] : [],
  });
}
