// How validation talks about values: "expected X, got Y" with Y described the way the user wrote it.
// The one describer of received values: unit files (TOML) and control requests (JSON) use it.
import { LauncherError } from '../errors.js';

/**
 * A short, human description of a value as received (strings quoted, long ones cut): a TOML
 * value of a unit file, or with `language` "json" a value of a control request (an object is
 * then "an object", not "a table").
 */
export function describeValue(value: unknown, language: 'toml' | 'json' = 'toml'): string {
  if (typeof value === 'string') {
    const quoted = JSON.stringify(value);
    return quoted.length > 60 ? `${quoted.slice(0, 56)}..."` : quoted;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (value instanceof Date) return 'a date';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (typeof value === 'object') return language === 'json' ? 'an object' : 'a table';
  return typeof value;
}

/**
 * A value-level validation failure, not yet tied to a file or key: the parsers
 * (duration, signal, address, ...) throw it and the validator adds where it was found.
 */
export function invalidValue(message: string, expected?: string, received?: unknown, extra: Record<string, string> = {}): LauncherError {
  const context: Record<string, string> = { ...extra };
  if (expected !== undefined) context.expected = expected;
  if (received !== undefined) context.received = describeValue(received);
  return new LauncherError('LAUNCHER_UNIT_INVALID', message, context);
}

/** The usual "expected X, got Y" failure. */
export function expectedGot(expected: string, received: unknown): LauncherError {
  return invalidValue(`expected ${expected}, got ${describeValue(received)}`, expected, received);
}
