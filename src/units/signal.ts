// Signal names in unit files: "SIGTERM" or "TERM" (any case), normalised to "SIGTERM".
import { constants } from 'node:os';
import { expectedGot, invalidValue } from './describe.js';

/**
 * The canonical name ("SIGTERM") of a signal written as "SIGTERM", "TERM" or "term".
 * Throws LAUNCHER_UNIT_INVALID when it is not a string or not a signal this OS has.
 */
export function parseSignal(value: unknown): NodeJS.Signals {
  if (typeof value !== 'string') throw expectedGot('a signal name like "SIGTERM"', value);
  const upper = value.trim().toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  if (!Object.hasOwn(constants.signals, name)) {
    throw invalidValue(`unknown signal ${JSON.stringify(value)} (expected a name like "SIGTERM" or "TERM")`, 'a signal name like "SIGTERM"', value);
  }
  return name as NodeJS.Signals;
}
