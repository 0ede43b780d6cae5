// Results of src/sys/ calls in tests, where any failure is the test's failure.
import { orThrow, syscallError } from '../../src/errors.js';

/** The value of a call that returns an object, array or string, or -errno: throws on -errno. */
export function ok<T extends object | string | boolean>(result: T | number, what = 'call'): T {
  if (typeof result === 'number') throw syscallError(what, -result);
  return result;
}

/** The value of a call that returns a number or -errno: throws on -errno. */
export const must = orThrow;
