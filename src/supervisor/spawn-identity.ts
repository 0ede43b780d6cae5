// user/group of a service as the numeric ids spawn needs (names from /etc/passwd, /etc/group).
import { LauncherError } from '../errors.js';
import { lookupId, primaryGid } from '../units/accounts.js';
import type { Unit } from '../units/types.js';

/**
 * { uid, gid } for the unit's user/group, or {} when neither is set. A user without a
 * group runs with the user's primary group (as login and systemd do). Throws
 * LAUNCHER_SPAWN when an account vanished since the unit was loaded.
 */
export function serviceIdentity(unit: Unit): { uid?: number; gid?: number } {
  const { user, group } = unit.service;
  const out: { uid?: number; gid?: number } = {};
  if (user !== undefined) {
    const uid = lookupId('user', user);
    if (uid === undefined) throw new LauncherError('LAUNCHER_SPAWN', `${unit.name}: user "${user}" does not exist`, { unit: unit.name, key: 'user' });
    out.uid = uid;
    const gid = group === undefined ? primaryGid(user) : undefined;
    if (gid !== undefined) out.gid = gid;
  }
  if (group !== undefined) {
    const gid = lookupId('group', group);
    if (gid === undefined) throw new LauncherError('LAUNCHER_SPAWN', `${unit.name}: group "${group}" does not exist`, { unit: unit.name, key: 'group' });
    out.gid = gid;
  }
  return out;
}
