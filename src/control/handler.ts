// The contract between the control server and whatever answers requests (the
// entrypoint wires the supervisor in): types only, so both sides import it freely.
import type { Request } from './protocol.js';
import type { ControlResult } from './replies.js';

/** Log levels the control server reports at. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where the server reports what it does not reply with (refusals, bugs, dropped peers). */
export type ControlLog = (level: LogLevel, message: string) => void;

/** What the handler knows about the request's connection. */
export interface HandlerContext {
  /** The peer's uid (SO_PEERCRED): 0 or the launcher's own uid, never anything else. */
  readonly uid: number;
  /** The peer's pid (SO_PEERCRED) at connect time. */
  readonly pid: number;
  /**
   * Streams a progress event to the client before the final reply. Never
   * throws; events after the final reply or after the client left are dropped.
   */
  progress(event: object): void;
  /** Bytes of replies and events queued for this client that it has not read yet (a slow reader grows it). */
  pendingBytes(): number;
  /**
   * Aborted when the client stops sending (disconnect or half-close). Informational:
   * the operation must still run to completion; only replies become pointless.
   */
  readonly signal: AbortSignal;
}

/**
 * Answers one validated request (never `ping`: the server answers that itself).
 * Resolve with the verb's result (replies.ts); throw a LauncherError for an error
 * reply (any other throw becomes LAUNCHER_INTERNAL and is logged as a bug). The
 * server itself only carries the result, so a test may give it any object (R).
 */
export type ControlHandler<R extends object = ControlResult> = (req: Request, ctx: HandlerContext) => Promise<R>;
