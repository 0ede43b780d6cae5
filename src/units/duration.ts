// Durations in unit files: "250ms", "10s", "5m", "1h", combinations like "1m30s", or a number of seconds.
import { expectedGot, invalidValue } from './describe.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
const BARE_SECONDS = /^\d+(?:\.\d+)?$/;

/** Node timers overflow past 2^31-1 ms (about 24.8 days); a longer duration would fire at once. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const EXPECTED = 'a duration like "10s"';

/**
 * Milliseconds (an integer, rounded) for a duration written as a string with units
 * ("250ms", "10s", "5m", "1h", "1m30s"), a string of bare seconds ("0", "1.5") or a
 * non-negative number of seconds. Throws LAUNCHER_UNIT_INVALID with expected/received otherwise,
 * or when the result exceeds MAX_DURATION_MS.
 */
export function parseDuration(value: unknown): number {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw expectedGot(EXPECTED, value);
    ms = value * 1000;
  } else if (typeof value === 'string') {
    ms = parseDurationText(value.trim(), value);
  } else {
    throw expectedGot(EXPECTED, value);
  }
  ms = Math.round(ms);
  if (ms > MAX_DURATION_MS) {
    throw invalidValue(`duration ${JSON.stringify(String(value))} is too long (at most ${MAX_DURATION_MS} ms, about 24 days)`, 'at most 24 days', value);
  }
  return ms;
}

function parseDurationText(text: string, original: string): number {
  if (BARE_SECONDS.test(text)) return Number(text) * 1000;
  if (text === '') throw expectedGot(EXPECTED, original);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (!match) throw expectedGot(EXPECTED, original);
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  return total;
}
