// user/group/owner keys: the account must exist, and only a root launcher may name another one.
import { lookupId } from './accounts.js';
import type { ValidationContext } from './context.js';
import type { TableFields } from './fields.js';

/**
 * Read `key` of `fields` as a user or group (name or numeric id). Records an issue when no such
 * account exists, or when a non-root launcher names an account it does not already have.
 */
export function readAccount(fields: TableFields, key: string, kind: 'user' | 'group', context: ValidationContext): string | undefined {
  const value = fields.string(key);
  if (value === undefined) return undefined;
  const ref = fields.refOf(key);
  const id = lookupId(kind, value, context.accountFiles);
  if (id === undefined) {
    const where = kind === 'user' ? context.accountFiles.passwd : context.accountFiles.group;
    fields.issues.add(ref, `${kind} ${JSON.stringify(value)} does not exist (not in ${where}, not a numeric id)`, {
      expected: `an existing ${kind}`,
      received: JSON.stringify(value),
    });
    return undefined;
  }
  const { uid, gids } = context.identity;
  const own = kind === 'user' ? id === uid : gids.includes(id);
  if (uid !== 0 && !own) {
    fields.issues.add(ref, `${kind} ${JSON.stringify(value)} needs a root launcher (this one runs as uid ${uid})`, {
      expected: `the launcher's own ${kind}`,
      received: JSON.stringify(value),
    });
    return undefined;
  }
  return value;
}
