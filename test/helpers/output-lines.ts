// Collects a process's output as whole lines (a line split across chunks is
// joined) and lets tests wait for a line matching a pattern, with a deadline.
import type { Readable } from 'node:stream';
import { withDeadline } from './wait.js';

export interface LineCollector {
  /** Every complete line so far (stdout and stderr interleaved as they arrived). */
  readonly lines: string[];
  /** The first line matching `pattern`, already printed or future. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Collects lines from `streams` (undefined entries are skipped). */
export function collectLines(streams: (Readable | null | undefined)[], what = 'launcher'): LineCollector {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const push = (line: string): void => {
    if (line === '') return;
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.pattern.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  for (const stream of streams) {
    if (!stream) continue;
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      parts.forEach(push);
    });
    stream.on('end', () => push(partial));
  }
  const waitForLine = (pattern: RegExp, timeoutMs = 15_000): Promise<string> => {
    const seen = lines.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return withDeadline(
      new Promise<string>((resolve) => waiters.push({ pattern, resolve })),
      timeoutMs,
      `${what} output matching ${pattern}\n--- output so far:\n${lines.join('\n')}`,
    );
  };
  return { lines, waitForLine };
}
