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

/**
 * The numeric id for a user or group written as a name or decimal id, or undefined when no such
 * account exists. A numeric id is accepted even when the database does not list it (as chown does).
 */
export function lookupId(kind: 'user' | 'group', value: string, files: AccountFiles = SYSTEM_ACCOUNT_FILES): number | undefined {
  if (/^\d+$/.test(value)) {
    const id = Number(value);
    return id <= MAX_ID ? id : undefined;
  }
  let text: string;
  try {
    text = readFileSync(kind === 'user' ? files.passwd : files.group, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === value && fields.length >= 3 && /^\d+$/.test(fields[2] ?? '')) return Number(fields[2]);
  }
  return undefined;
}
