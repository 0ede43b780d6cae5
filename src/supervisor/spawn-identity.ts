// user/group of a service: the numeric ids, supplementary groups and login variables a
// process started as that account gets (names from /etc/passwd, /etc/group), as systemd's User=.
import { LauncherError } from '../errors.js';
import { lookupId, passwdEntry, supplementaryGids } from '../units/accounts.js';
import type { Unit } from '../units/types.js';

/** Who a service runs as; empty when the unit names neither user nor group. */
export interface ServiceIdentity {
  readonly uid?: number;
  readonly gid?: number;
  /** Supplementary groups of `user` (every group listing it as a member, plus its primary group). */
  readonly groups?: readonly number[];
  /** HOME, USER, LOGNAME, SHELL from the user's passwd entry (only with `user`). */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The identity for the unit's user/group. A user without a group runs with the user's
 * primary group and supplementary groups (as login and systemd's User= do); `group` replaces
 * the primary group. Throws LAUNCHER_SPAWN when an account vanished since the unit was loaded.
 */
export function serviceIdentity(unit: Unit): ServiceIdentity {
  const { user, group } = unit.service;
  if (user === undefined && group === undefined) return { env: {} };
  let uid: number | undefined;
  let gid: number | undefined;
  let groups: number[] | undefined;
  let env: Record<string, string> = {};
  if (user !== undefined) {
    // The passwd entry (read once) gives the uid too; a numeric user need not be listed (as chown).
    const entry = passwdEntry(user);
    uid = entry?.uid ?? lookupId('user', user);
    if (uid === undefined) throw new LauncherError('LAUNCHER_SPAWN', `${unit.name}: user "${user}" does not exist`, { unit: unit.name, key: 'user' });
    if (entry) {
      gid = entry.gid;
      groups = [...new Set([entry.gid, ...supplementaryGids(entry.name)])];
      env = { HOME: entry.home || '/', USER: entry.name, LOGNAME: entry.name, SHELL: entry.shell || '/bin/sh' };
    }
  }
  if (group !== undefined) {
    gid = lookupId('group', group);
    if (gid === undefined) throw new LauncherError('LAUNCHER_SPAWN', `${unit.name}: group "${group}" does not exist`, { unit: unit.name, key: 'group' });
  }
  return { ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}), ...(groups ? { groups } : {}), env };
}

/** "uid:gid:g1,g2" for the exec shim, which sets them itself (libuv would drop supplementary groups). */
export function encodeIds(identity: ServiceIdentity): string {
  return `${identity.uid ?? ''}:${identity.gid ?? ''}:${(identity.groups ?? []).join(',')}`;
}
