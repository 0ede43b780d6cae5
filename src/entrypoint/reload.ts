// `reload`: apply the difference between the running units and a freshly
// validated directory. A socket whose address, type and options are unchanged
// stays the very same open socket (even if it moves to another unit); new
// units start, removed units stop, changed services are handed off.
import type { Unit } from '../units/types.js';
import { bindKey, closeSocket, retuneSocket, type BoundSocket } from '../sockets/index.js';
import { needsNotify, socketsHeldBy, type Launcher, type UnitRuntime } from './launcher.js';
import { isPerConnection } from '../supervisor/index.js';

/** Old sockets by bindKey; `take` hands each out once. */
class SocketPool {
  readonly #byKey = new Map<string, BoundSocket[]>();
  readonly taken = new Set<BoundSocket>();

  constructor(runtimes: Iterable<UnitRuntime>) {
    for (const r of runtimes) {
      for (const s of socketsHeldBy(r)) {
        const key = bindKey(s.spec);
        const list = this.#byKey.get(key) ?? [];
        list.push(s);
        this.#byKey.set(key, list);
      }
    }
  }

  take(key: string): BoundSocket | undefined {
    const s = this.#byKey.get(key)?.find((c) => !this.taken.has(c));
    if (s) this.taken.add(s);
    return s;
  }
}

/** Compare by content: validated units are plain data in a fixed key order. */
function sameUnit(a: Unit, b: Unit): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface ReloadOutcome {
  readonly summary: string[];
  /** Units whose handoff failed (they keep running the old spec). */
  readonly failed: { unit: string; error: unknown }[];
}

/**
 * Applies `next` (already validated whole). Binding is done first, all or
 * nothing: if a new address cannot be bound, nothing running changes and the
 * bind error is thrown. Then removals stop, changed units hand off, new units
 * start, and old sockets nobody kept are closed.
 */
export async function applyReload(launcher: Launcher, next: readonly Unit[], progress: (message: string) => void): Promise<ReloadOutcome> {
  const pool = new SocketPool(launcher.runtimes());
  const fresh: BoundSocket[] = [];
  const plan = new Map<string, BoundSocket[]>();
  const summary: string[] = [];
  const failed: { unit: string; error: unknown }[] = [];

  // 1. Sockets for every new unit: keep identical ones, bind the rest (all or nothing).
  try {
    for (const unit of next) {
      plan.set(
        unit.name,
        unit.sockets.map((spec) => {
          // Same address, type and bind-time flags: keep the open socket, retune the rest in place.
          const kept = pool.take(bindKey(spec));
          if (kept) return retuneSocket(kept, unit.name, spec);
          const [bound] = launcher.bindFresh({ ...unit, sockets: [spec] });
          if (!bound) throw new Error(`no socket bound for ${unit.name}`);
          fresh.push(bound);
          return bound;
        }),
      );
    }
  } catch (error) {
    fresh.forEach(closeSocket);
    throw error;
  }
  const oldSockets = launcher.runtimes().flatMap(socketsHeldBy);
  const keptFds = new Set([...plan.values()].flat().map((s) => s.fd));
  const nextNames = new Set(next.map((u) => u.name));

  // 2. Removed units stop; their sockets close below unless another unit kept them.
  // A unit that switches between one long-lived service and a process per connection (accept)
  // is a different kind of unit: it is stopped here and started anew in step 4.
  const kindOf = new Map(next.map((u) => [u.name, isPerConnection(u)]));
  for (const runtime of launcher.runtimes()) {
    const name = runtime.supervisor.unit.name;
    const switching = nextNames.has(name) && kindOf.get(name) !== isPerConnection(runtime.supervisor.unit);
    if (nextNames.has(name) && !switching) continue;
    progress(switching ? `${name}: switches to ${kindOf.get(name) ? 'a process per connection' : 'one service'}, stopping` : `${name}: removed, stopping`);
    await launcher.retire(name);
    if (!switching) summary.push(`removed ${name}`);
  }

  // 3. Changed units hand off to the new spec; unchanged ones are left alone.
  for (const unit of next) {
    const runtime = launcher.find(unit.name);
    const sockets = plan.get(unit.name) ?? [];
    if (!runtime) continue;
    const current = runtime.supervisor.unit;
    if (sameUnit(current, unit)) continue;
    // Keep the running notify socket when the new spec still reads one: old and new children share it.
    const notify = runtime.notify && needsNotify(unit) ? runtime.notify : launcher.openNotify(unit);
    launcher.prepareSpec(unit, sockets, notify);
    progress(`${unit.name}: changed, handing off`);
    try {
      const serving = !['inactive', 'failed', 'waiting'].includes(runtime.supervisor.status().state);
      launcher.disarm(runtime);
      const report = await runtime.supervisor.replace(unit);
      const pids = report.instances.map((i) => `${i.oldPid ?? '-'} → ${i.newPid}`).join(', ');
      summary.push(`changed ${unit.name}${serving && pids ? `: handed off (${pids})` : ''}`);
      // Every instance runs the new spec: old sockets close below unless kept.
      launcher.completeHandoff(runtime, unit, sockets, notify);
    } catch (error) {
      failed.push({ unit: unit.name, error });
      for (const s of socketsHeldBy(runtime)) keptFds.add(s.fd);
      if (runtime.supervisor.runs(unit)) {
        // A rolling handoff failed partway: the swapped instances run the new spec and
        // restart with its sockets and notify socket, so those stay open with the unit.
        summary.push(`changed ${unit.name}: handoff failed partway, some instances run the new version`);
        launcher.retainPartialHandoff(runtime, sockets, notify);
      } else {
        summary.push(`changed ${unit.name}: handoff failed, still running the old version`);
        sockets.filter((s) => fresh.includes(s)).forEach((s) => {
          closeSocket(s);
          keptFds.delete(s.fd);
        });
        if (notify !== runtime.notify) notify?.close();
      }
    }
  }

  // 4. New units start.
  for (const unit of next) {
    if (launcher.has(unit.name)) continue;
    const runtime = launcher.adopt(unit, plan.get(unit.name) ?? []);
    progress(`${unit.name}: added, starting`);
    summary.push(`added ${unit.name}`);
    launcher.startUnit(runtime).catch((error: unknown) => failed.push({ unit: unit.name, error }));
  }

  // 5. Old sockets nobody kept are closed now that their children are gone.
  for (const s of oldSockets) {
    if (!keptFds.has(s.fd)) {
      closeSocket(s);
      summary.push(`closed ${s.unit} socket ${s.spec.listenText}`);
    }
  }
  return { summary, failed };
}
