// Typed readers for one TOML table: each checks type and range, records an issue, returns a usable value.
import { describeValue } from './describe.js';
import { parseDuration } from './duration.js';
import type { Issues } from './issues.js';
import type { KeyRef } from './positions.js';
import { KEY_HOMES } from './schema.js';
import { parseSignal } from './signal.js';
import { closest } from './suggest.js';

/** A plain TOML table (the parser makes null-prototype objects; arrays and dates are not tables). */
export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * Reads keys of one table. Every reader returns the default (or undefined) when the key is
 * absent or wrong, after recording an issue for a wrong one, so validation goes on and
 * reports every error at once.
 */
export class TableFields {
  constructor(
    readonly table: Record<string, unknown>,
    readonly refOf: (key: string) => KeyRef,
    readonly issues: Issues,
  ) {}

  has(key: string): boolean {
    return Object.hasOwn(this.table, key);
  }

  raw(key: string): unknown {
    return this.has(key) ? this.table[key] : undefined;
  }

  /** Record "expected X, got Y" at `key`. */
  wrongType(key: string, expected: string, value: unknown = this.raw(key)): void {
    const received = describeValue(value);
    this.issues.add(this.refOf(key), `expected ${expected}, got ${received}`, { expected, received });
  }

  string(key: string, { nonEmpty = true }: { nonEmpty?: boolean } = {}): string | undefined {
    if (!this.has(key)) return undefined;
    const value = this.table[key];
    if (typeof value !== 'string') return void this.wrongType(key, 'a string');
    if (nonEmpty && value.length === 0) return void this.wrongType(key, 'a non-empty string');
    if (value.includes('\0')) return void this.issues.add(this.refOf(key), 'must not contain a NUL byte');
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const value = this.table[key];
    if (typeof value !== 'boolean') {
      this.wrongType(key, 'true or false');
      return fallback;
    }
    return value;
  }

  integer(key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (!this.has(key)) return fallback;
    const value = this.table[key];
    const expected = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer ${min}..${max}`;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.wrongType(key, expected);
      return fallback;
    }
    return value;
  }

  /** Milliseconds; `min` excludes e.g. a zero timeout where zero means nothing sensible. */
  duration(key: string, fallback: number, { min = 0 }: { min?: number } = {}): number {
    if (!this.has(key)) return fallback;
    const ms = this.issues.attempt(this.refOf(key), () => parseDuration(this.table[key]));
    if (ms === undefined) return fallback;
    if (ms < min) {
      this.wrongType(key, `a duration of at least ${min} ms`);
      return fallback;
    }
    return ms;
  }

  choice<T extends string>(key: string, options: readonly T[], fallback: T): T {
    if (!this.has(key)) return fallback;
    const value = this.table[key];
    if (typeof value === 'string' && (options as readonly string[]).includes(value)) return value as T;
    this.wrongType(key, `one of ${options.map((o) => JSON.stringify(o)).join(', ')}`);
    return fallback;
  }

  signal(key: string, fallback: NodeJS.Signals): NodeJS.Signals {
    if (!this.has(key)) return fallback;
    return this.issues.attempt(this.refOf(key), () => parseSignal(this.table[key])) ?? fallback;
  }

  /** An issue for every key not in `known`, suggesting the closest known key or the table it belongs in. */
  rejectUnknown(known: readonly string[]): void {
    for (const key of Object.keys(this.table)) {
      if (known.includes(key)) continue;
      const typo = closest(key, known);
      const home = Object.hasOwn(KEY_HOMES, key) ? KEY_HOMES[key] : undefined;
      const hint = typo ? `, did you mean \`${typo}\`?` : home ? `, it belongs in \`${home}\`` : '';
      this.issues.add(this.refOf(key), `unknown key \`${key}\`${hint}`, { at: 'key', expected: 'a known key', received: key });
    }
  }
}
