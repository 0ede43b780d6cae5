// The `logs` verb on the launcher's side: the last N lines from memory, then (with
// follow) each new line as an event, until the client leaves or the launcher stops.
// A client that reads slower than lines come never holds the launcher back: past a
// bound of unread bytes its lines are skipped and counted, and it is told how many.
import type { HandlerContext } from '../control/handler.js';
import type { MemoryLog } from './log-memory.js';
import { toJson, type LogRecord } from './log-record.js';

/** Unread bytes at which a follower starts missing lines. */
export const FOLLOWER_HIGH_BYTES = 1024 * 1024;
/** Unread bytes under which a skipping follower gets lines again (after the skip count). */
export const FOLLOWER_LOW_BYTES = 64 * 1024;
/** While a follower is skipping, how often to look whether it caught up. */
const CATCH_UP_CHECK_MS = 200;

export interface LogsArgs {
  readonly units: readonly string[];
  readonly lines: number;
  readonly follow: boolean;
}

/** A record as the `logs` verb sends it: the JSON form plus `stream`, `level` and `seq`. */
export function wireRecord(record: LogRecord): Record<string, unknown> {
  return { ...toJson(record), stream: record.stream, level: record.level, seq: record.seq };
}

/**
 * Streams `args.lines` lines of `args.units` (all when empty) to the client as
 * `{line}` events; with `follow`, then every new line, until `ctx.signal` (the client
 * left) or `stopping` (the launcher is shutting down) aborts. Resolves with
 * `{lines: <sent>, skipped: <total skipped>}`.
 */
export async function serveLogs(memory: MemoryLog, args: LogsArgs, ctx: HandlerContext, stopping: AbortSignal): Promise<object> {
  let sent = 0;
  for (const record of memory.tail(args.units, args.lines)) {
    ctx.progress({ line: wireRecord(record) });
    sent++;
  }
  if (!args.follow || ctx.signal.aborted || stopping.aborted) return { lines: sent, skipped: 0 };

  let skipping = 0;
  let totalSkipped = 0;
  let timer: NodeJS.Timeout | undefined;
  const caughtUp = (): boolean => {
    if (skipping === 0 || ctx.pendingBytes() > FOLLOWER_LOW_BYTES) return skipping === 0;
    ctx.progress({ skipped: skipping });
    skipping = 0;
    clearInterval(timer);
    timer = undefined;
    return true;
  };
  const unfollow = memory.follow(args.units, (record) => {
    if (!caughtUp() || ctx.pendingBytes() > FOLLOWER_HIGH_BYTES) {
      skipping++;
      totalSkipped++;
      timer ??= setInterval(caughtUp, CATCH_UP_CHECK_MS);
      return;
    }
    ctx.progress({ line: wireRecord(record) });
    sent++;
  });
  let done = (): void => {};
  await new Promise<void>((resolve) => {
    done = resolve;
    ctx.signal.addEventListener('abort', done, { once: true });
    stopping.addEventListener('abort', done, { once: true });
  });
  ctx.signal.removeEventListener('abort', done);
  stopping.removeEventListener('abort', done);
  unfollow();
  clearInterval(timer);
  return { lines: sent, skipped: totalSkipped };
}
