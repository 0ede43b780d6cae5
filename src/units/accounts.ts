// user/group names and ids, from /etc/passwd and /etc/group (no NSS: what a container sees).
import { readFileSync } from 'node:fs';

/** Who the launcher runs as: a non-root launcher may only run services as itself. */
export interface LauncherIdentity {
  readonly uid: number;
  readonly gids: readonly number[];
}

/** The identity of this process. */
export function currentIdentity(): LauncherIdentity {
  const uid = process.getuid?.() ?? 0;
  const gids = new Set<number>([process.getgid?.() ?? 0, ...(process.getgroups?.() ?? [])]);
  return { uid, gids: [...gids] };
}

/** Where the account databases are; tests point these at fixtures. */
export interface AccountFiles {
  readonly passwd: string;
  readonly group: string;
}

export const SYSTEM_ACCOUNT_FILES: AccountFiles = { passwd: '/etc/passwd', group: '/etc/group' };

const MAX_ID = 2 ** 32 - 2; // (uid_t)-1 means "unchanged" to chown/setuid, so it is not an id.

/** The fields of the first line of `file` whose name (field 0), or id (field 2) when `byId`, is `value`. */
function findEntry(file: string, value: string, byId: boolean): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length >= 3 && /^\d+$/.test(fields[2] ?? '') && (fields[0] === value || (byId && fields[2] === value))) return fields;
  }
  return undefined;
}

/**
 * The numeric id for a user or group written as a name or decimal id, or undefined when no such
 * account exists. A numeric id is accepted even when the database does not list it (as chown does).
 */
export function lookupId(kind: 'user' | 'group', value: string, files: AccountFiles = SYSTEM_ACCOUNT_FILES): number | undefined {
  if (/^\d+$/.test(value)) {
    const id = Number(value);
    return id <= MAX_ID ? id : undefined;
  }
  const fields = findEntry(kind === 'user' ? files.passwd : files.group, value, false);
  return fields ? Number(fields[2]) : undefined;
}

/** A passwd entry's fields a login (and systemd's User=) takes the environment from. */
export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

/** The passwd entry of a user given by name or uid; undefined when not listed. */
export function passwdEntry(user: string, files: AccountFiles = SYSTEM_ACCOUNT_FILES): PasswdEntry | undefined {
  const f = findEntry(files.passwd, user, true);
  if (!f || !/^\d+$/.test(f[3] ?? '')) return undefined;
  return { name: f[0] ?? user, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/', shell: f[6] ?? '/bin/sh' };
}

/** The gids of every group that lists `userName` as a member (initgroups' supplementary groups), ascending. */
export function supplementaryGids(userName: string, files: AccountFiles = SYSTEM_ACCOUNT_FILES): number[] {
  let text: string;
  try {
    text = readFileSync(files.group, 'utf8');
  } catch {
    return [];
  }
  const gids = new Set<number>();
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 4 || !/^\d+$/.test(fields[2] ?? '')) continue;
    if ((fields[3] ?? '').split(',').map((m) => m.trim()).includes(userName)) gids.add(Number(fields[2]));
  }
  return [...gids].sort((a, b) => a - b);
}
