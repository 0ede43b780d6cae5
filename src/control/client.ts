// The client side of the control protocol: one request per connection over a
// plain `net.connect` (no koffi needed to be a peer), progress events streamed
// to a callback, the final reply turned into a value or a LauncherError.
import net from 'node:net';
import { LauncherError, asLauncherError, type ErrorCode } from '../errors.js';
import { FrameSplitter } from './lines.js';
import { encodeRequest, parseReply, parseRequest, type ArgsOf, type Reply, type Verb } from './protocol.js';
import { checkEvent, checkResult, type EventOf, type ResultOf } from './replies.js';

/** Replies can be large (status of many units); this only guards against a runaway peer. */
const MAX_REPLY_LINE_BYTES = 64 * 1024 * 1024;

/** The id this client uses: one request per connection, so any fixed id will do. */
const REQUEST_ID = 1;

export interface RequestOptions {
  /** Called with each progress event, in order, before the promise settles. */
  onEvent?: (event: object) => void;
  /** Give up (LAUNCHER_CONTROL_TIMEOUT) when no final reply came within this many ms; default: wait. */
  timeoutMs?: number;
  /**
   * Give up (LAUNCHER_CONTROL_TIMEOUT) after this many ms without a byte from the launcher. A
   * launcher sends a heartbeat event every second while a request runs, so only a launcher that
   * accepted and then stopped answering is silent this long. Default: wait.
   */
  silenceMs?: number;
}

/** The server's keep-alive event while a request runs (it only resets the silence timer). */
function isHeartbeat(event: object): boolean {
  return (event as { heartbeat?: unknown }).heartbeat === true && Object.keys(event).length === 1;
}

/** Connection failures that mean "nobody is serving this path". */
const UNREACHABLE_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTDIR', 'ENOTSOCK']);

function connectError(path: string, error: NodeJS.ErrnoException): LauncherError {
  const code = error.code ?? 'EIO';
  if (UNREACHABLE_CODES.has(code)) {
    return new LauncherError('LAUNCHER_UNREACHABLE', `no launcher is listening on ${path}; start one with \`launcher up\``, {
      address: path, syscall: 'connect', errnoName: code,
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new LauncherError('LAUNCHER_CONTROL_DENIED', `permission denied on ${path}: the launcher there belongs to another user`, {
      address: path, syscall: 'connect', errnoName: code,
    });
  }
  return new LauncherError('LAUNCHER_UNREACHABLE', `cannot reach the launcher on ${path}: ${error.message}`, {
    address: path, syscall: 'connect', errnoName: code,
  });
}

/**
 * Sends one request to the launcher listening on `path` and resolves with its
 * result object. Rejects with a LauncherError: the reply's own code, message and
 * context for an error reply; LAUNCHER_UNREACHABLE when nothing listens on
 * `path` (ENOENT, ECONNREFUSED) or the launcher hangs up before answering;
 * LAUNCHER_CONTROL_PROTOCOL (locally, nothing sent) for a malformed request;
 * LAUNCHER_CONTROL_TIMEOUT after `timeoutMs`.
 */
export function request(path: string, verb: string, args: object = {}, opts: RequestOptions = {}): Promise<object> {
  const line = encodeRequest(REQUEST_ID, verb, args);
  try {
    parseRequest(line.trimEnd()); // the server would refuse it anyway; say so without a round trip
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise<object>((resolve, reject) => {
    const socket = net.connect(path);
    const splitter = new FrameSplitter(MAX_REPLY_LINE_BYTES);
    let connected = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let silence: NodeJS.Timeout | undefined;
    const silenceMs = opts.silenceMs;
    const resetSilence = (): void => {
      if (silenceMs === undefined) return;
      clearTimeout(silence);
      silence = setTimeout(() => {
        settle({ error: new LauncherError('LAUNCHER_CONTROL_TIMEOUT', `the launcher on ${path} accepted the connection but said nothing for ${silenceMs} ms; giving up on "${verb}"`, {
          address: path, verb, timeoutMs: silenceMs,
        }) });
      }, silenceMs);
    };

    const settle = (outcome: { result: object } | { error: LauncherError }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(silence);
      socket.end();
      socket.destroy();
      if ('result' in outcome) resolve(outcome.result);
      else reject(outcome.error);
    };

    const onReply = (reply: Reply): void => {
      if (reply.id !== REQUEST_ID && reply.id !== null) return; // not ours: ignore, as the protocol allows
      if (reply.kind === 'event') {
        if (isHeartbeat(reply.event)) return;
        try {
          opts.onEvent?.(reply.event);
        } catch (error) {
          settle({ error: asLauncherError(error) });
        }
      } else if (reply.kind === 'result') {
        settle({ result: reply.result });
      } else {
        const { code, message, context } = reply.error;
        settle({ error: new LauncherError(code as ErrorCode, message, context) });
      }
    };

    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        settle({ error: new LauncherError('LAUNCHER_CONTROL_TIMEOUT', `no answer from the launcher on ${path} within ${opts.timeoutMs} ms`, {
          address: path, verb, timeoutMs: opts.timeoutMs,
        }) });
      }, opts.timeoutMs);
    }

    resetSilence();
    socket.once('connect', () => {
      connected = true;
      resetSilence();
      socket.write(line);
    });
    socket.on('data', (chunk: Buffer) => {
      resetSilence();
      const { lines, overflow } = splitter.push(chunk);
      try {
        for (const text of lines) onReply(parseReply(text));
        if (overflow !== undefined) {
          throw new LauncherError('LAUNCHER_CONTROL_PROTOCOL', `the launcher sent a reply line over ${MAX_REPLY_LINE_BYTES} bytes`, { address: path });
        }
      } catch (error) {
        settle({ error: asLauncherError(error) });
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected) settle({ error: connectError(path, error) });
      // After connecting, a reset is reported by 'close' below unless a reply already settled us.
    });
    socket.on('close', () => {
      settle({ error: new LauncherError('LAUNCHER_UNREACHABLE', `the launcher on ${path} closed the connection before answering "${verb}"`, {
        address: path, verb,
      }) });
    });
  });
}

/** RequestOptions with events of verb V. */
export interface VerbOptions<V extends Verb> extends Omit<RequestOptions, 'onEvent'> {
  onEvent?: (event: EventOf<V>) => void;
}

/**
 * request() for one verb, typed: resolves with `verb`'s result and streams its events,
 * each checked against its shape in replies.ts first (LAUNCHER_CONTROL_PROTOCOL naming
 * the field when the launcher sent another). What the CLI uses.
 */
export async function callVerb<V extends Verb>(path: string, verb: V, args: ArgsOf<V>, opts: VerbOptions<V> = {}): Promise<ResultOf<V>> {
  const { onEvent, ...rest } = opts;
  const result = await request(path, verb, args, {
    ...rest,
    ...(onEvent ? { onEvent: (event: object) => onEvent(checkEvent(verb, event)) } : {}),
  });
  return checkResult(verb, result);
}
