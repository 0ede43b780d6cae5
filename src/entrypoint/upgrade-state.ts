// The state an in-place upgrade hands to the next launcher version: versioned JSON
// with fd numbers that stay open across the exec. A newer launcher reads every
// older version (migrate() below, one step per version; a fixture of each
// released version lives in test/fixtures/state/). A state written by a newer
// launcher than the reader is refused: nothing would know what its new fields mean.
import { readFileSync } from 'node:fs';
import { LauncherError } from '../errors.js';
import type { ControlListener } from '../control/listener.js';
import type { UnitState } from './launcher.js';

export const STATE_FORMAT = 'socket-launcher/state';
/** The version this code writes. Bump it (and add a migration and a fixture) when the shape changes. */
export const STATE_VERSION = 1;

/** Environment variables naming the fd the state is on: resume from it, or only check it. */
export const STATE_FD_ENV = 'LAUNCHER_UPGRADE_STATE_FD';
export const CHECK_FD_ENV = 'LAUNCHER_UPGRADE_CHECK_FD';
/** What a check run prints on success (the old launcher looks for it). */
export const CHECK_OK = 'upgrade check ok';

/** Who the launcher is across its upgrades (shown by `status`). */
export interface LauncherIdentity {
  /** Wall-clock ms when the first generation started. */
  readonly startedAt: number;
  /** How many in-place upgrades so far. */
  readonly upgrades: number;
  /** Wall-clock ms of the last upgrade, or null. */
  readonly upgradedAt: number | null;
  /** The launcher version each generation ran, oldest first (the last is the one that wrote the state). */
  readonly versions: readonly string[];
}

export interface LauncherState {
  readonly format: typeof STATE_FORMAT;
  readonly version: typeof STATE_VERSION;
  readonly identity: LauncherIdentity;
  readonly unitsDir: string | null;
  /** The control socket (listening fd, path, dev/ino), or null when the launcher has none. */
  readonly control: ControlListener | null;
  readonly units: readonly UnitState[];
}

function invalid(why: string): LauncherError {
  return new LauncherError('LAUNCHER_USAGE', `upgrade state: ${why}`, { key: STATE_FD_ENV });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFd = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;

/** Brings an older state up to STATE_VERSION, one version at a time. */
function migrate(state: Record<string, unknown>): Record<string, unknown> {
  // Version 1 is the first released version: nothing to migrate yet. A version 2 adds
  // `if (state.version === 1) state = { ...state, version: 2, newField: default }` here.
  return state;
}

/** Parses and checks a state text; throws LAUNCHER_USAGE naming what is wrong. */
export function parseState(text: string): LauncherState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw invalid(`not JSON (${(error as Error).message})`);
  }
  if (!isObject(raw) || raw.format !== STATE_FORMAT) throw invalid(`not a launcher state (format ${JSON.stringify(isObject(raw) ? raw.format : raw)})`);
  const version = raw.version;
  if (!Number.isInteger(version) || (version as number) < 1) throw invalid(`version ${JSON.stringify(version)} is not a version`);
  if ((version as number) > STATE_VERSION) {
    throw invalid(`version ${String(version)} was written by a newer launcher; this one reads up to version ${STATE_VERSION}`);
  }
  const state = migrate(raw);
  const identity = state.identity;
  if (!isObject(identity) || !Number.isFinite(identity.startedAt) || !Array.isArray(identity.versions)) throw invalid('no launcher identity');
  if (state.control !== null && !(isObject(state.control) && isFd(state.control.fd) && typeof state.control.path === 'string')) {
    throw invalid('control socket without an fd and path');
  }
  if (!Array.isArray(state.units)) throw invalid('no units');
  for (const u of state.units as unknown[]) {
    if (!isObject(u) || !isObject(u.unit) || typeof u.unit.name !== 'string' || !isObject(u.unit.service)) throw invalid('a unit without its spec');
    const name = u.unit.name;
    if (!Array.isArray(u.sockets) || !u.sockets.every((s) => isObject(s) && isFd(s.fd) && isObject(s.spec))) throw invalid(`${name}: sockets without fds`);
    const sup = u.supervisor;
    if (!isObject(sup) || (sup.kind !== 'service' && sup.kind !== 'per-connection')) throw invalid(`${name}: no supervisor state`);
    if (sup.kind === 'service' && !Array.isArray(sup.instances)) throw invalid(`${name}: no instances`);
    if (sup.kind === 'per-connection' && !Array.isArray(sup.running)) throw invalid(`${name}: no connections`);
    if (!Array.isArray(u.fdStores)) throw invalid(`${name}: no fd store`);
  }
  return state as unknown as LauncherState;
}

/** The text of the state on `fd` (a memfd: read from its start whatever its offset). */
export function readStateFd(fd: number): string {
  return readFileSync(`/proc/self/fd/${fd}`, 'utf8');
}

/** Every fd a state holds open for the next process: sockets, notify sockets, output pipes, stored fds, the control socket. */
export function stateFds(state: LauncherState): number[] {
  const fds: number[] = [];
  if (state.control) fds.push(state.control.fd);
  for (const u of state.units) {
    fds.push(...u.sockets.map((s) => s.fd));
    if (u.notify) fds.push(u.notify.fd);
    fds.push(...u.fdStores.map((s) => s.fd));
    const children =
      u.supervisor.kind === 'service' ? u.supervisor.instances.flatMap((i) => (i.child ? [i.child] : [])) : u.supervisor.running.map((r) => r.child);
    for (const c of children) fds.push(c.stdout, c.stderr);
  }
  return [...new Set(fds.filter((fd) => fd >= 0))];
}
