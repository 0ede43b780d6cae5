// Builds the `status` reply from the supervisors' snapshots and the bound sockets.
import { performance } from 'node:perf_hooks';
import type { Launcher, UnitRuntime } from './launcher.js';
import { isPerConnection } from '../supervisor/index.js';
import type { StatusReply, UnitStatusReply } from '../control/replies.js';
import { launcherVersion } from '../version.js';

function unitReply(runtime: UnitRuntime, now: number): UnitStatusReply {
  const s = runtime.supervisor.status();
  const unit = runtime.supervisor.unit;
  const texts = s.instances.filter((i) => i.statusText !== null).sort((a, b) => b.since - a.since);
  const readySince = s.instances.flatMap((i) => (i.readySince === null ? [] : [i.readySince]));
  const troubled = s.instances.find((i) => i.state === s.state && i.reason !== null);
  const ms = (since: number): number => Math.max(0, Math.round(now - since));
  return {
    name: s.name,
    state: s.state,
    ...(unit.description !== undefined ? { description: unit.description } : {}),
    pids: s.instances.flatMap((i) => (i.pid === null ? [] : [i.pid])),
    // A per-connection unit counts from when it began accepting; a unit of one service from when
    // its newest ready child became ready, so a replaced child starts it over.
    uptimeMs: isPerConnection(unit) ? (s.startedAt === null ? null : ms(s.startedAt)) : readySince.length ? ms(Math.max(...readySince)) : null,
    reason: troubled?.reason ?? null,
    restarts: s.restarts,
    statusText: texts[0]?.statusText ?? null,
    sockets: runtime.sockets.map((b) => ({ name: b.spec.name, listen: b.spec.listenText, local: b.local })),
    ...(isPerConnection(unit) ? { perConnection: true } : {}),
    fdStoreMax: unit.service.fdStoreMax,
    storedFds: runtime.fdStores.list(),
    instances: s.instances.map((i) => ({
      index: i.index,
      state: i.state,
      pid: i.pid,
      forMs: ms(i.since),
      restarts: i.restarts,
      statusText: i.statusText,
      lastExit: i.lastExit,
      reason: i.reason,
      uptimeMs: i.readySince === null ? null : ms(i.readySince),
    })),
  };
}

/** The reply for `runtimes` (in the order given). */
export function buildStatusReply(launcher: Launcher, runtimes: readonly UnitRuntime[]): StatusReply {
  const now = performance.now();
  return {
    launcher: {
      pid: process.pid,
      uptimeMs: Math.max(0, Math.round(Date.now() - launcher.identity.startedAt)),
      unitsDir: launcher.unitsDir,
      version: launcherVersion(),
      startedAt: launcher.identity.startedAt,
      upgrades: launcher.identity.upgrades,
      upgradedAt: launcher.identity.upgradedAt,
    },
    units: runtimes.map((r) => unitReply(r, now)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}
