// The control protocol, version 1: JSON lines over a unix stream socket. The
// wire format is defined here and only here (docs/control.md shows examples).
//
//   request  {"v":1,"id":7,"verb":"restart","args":{"units":["web"]}}
//   event    {"v":1,"id":7,"event":{...}}                       zero or more, progress
//   result   {"v":1,"id":7,"result":{...}}                      exactly one final reply ...
//   error    {"v":1,"id":7,"error":{"code":"LAUNCHER_...","message":"...","context":{...}}}  ... or this
//
// One request per line ("\n"; a trailing "\r" and blank lines are tolerated).
// A line is at most MAX_LINE_BYTES bytes. `id` is the client's non-negative
// integer, echoed on every reply; an error about a line whose id could not be
// read carries "id":null. Verbs and their args (nothing else is accepted):
//   ping                         args {} or absent
//   status  {"units":[...]}      units optional; absent or [] means every unit
//   start | stop | restart  {"units":[...]}   at least one unit
//   reload | down                args {} or absent
//   logs    {"units":[...],"lines":N,"follow":true}   all optional (units [] = every unit, lines
//           default 10, 0..MAX_LOG_LINES); replies with one event {"line":{...}} per line, oldest
//           first; with follow, new lines as they come until the client leaves or the launcher
//           stops; a follower that reads too slowly gets {"skipped":N} in place of N lines
// Unknown keys, wrong types, unknown verbs, unit names that do not match
// [A-Za-z0-9][A-Za-z0-9_.@-]* (so no "/" and no ".."), or "v" other than 1 are
// LAUNCHER_CONTROL_PROTOCOL errors; the server replies with one and closes.
// What each verb answers (its result and events) is in replies.ts.
import { LauncherError, type ErrorCode, type ErrorContext } from '../errors.js';
import { describeValue } from '../units/describe.js';
import { UNIT_NAME_RULE, isUnitName } from '../units/schema.js';

/** The only protocol version this launcher speaks. */
export const PROTOCOL_VERSION = 1;

/** Longest accepted request line in bytes, without its newline (64 KiB). */
export const MAX_LINE_BYTES = 64 * 1024;

export const VERBS = ['ping', 'status', 'start', 'stop', 'restart', 'reload', 'down', 'logs', 'upgrade'] as const;

/** Most lines one `logs` request may ask for. */
export const MAX_LOG_LINES = 1_000_000;
/** Lines `logs` sends when the request does not say. */
export const DEFAULT_LOG_REQUEST_LINES = 10;
export type Verb = (typeof VERBS)[number];

/** A validated request; `args` always present and normalised. */
export type Request =
  | { readonly v: 1; readonly id: number; readonly verb: 'ping' | 'reload' | 'down' | 'upgrade'; readonly args: Readonly<Record<string, never>> }
  | { readonly v: 1; readonly id: number; readonly verb: 'status'; readonly args: { readonly units: readonly string[] } }
  | { readonly v: 1; readonly id: number; readonly verb: 'start' | 'stop' | 'restart'; readonly args: { readonly units: readonly string[] } }
  | {
      readonly v: 1;
      readonly id: number;
      readonly verb: 'logs';
      readonly args: { readonly units: readonly string[]; readonly lines: number; readonly follow: boolean };
    };

/** The request of verb V (a union member may serve several verbs: ping, reload, down). */
export type RequestOf<V extends Verb> = Request extends infer R ? (R extends { readonly verb: infer W } ? (V extends W ? R : never) : never) : never;

/** What a client passes as args for verb V (parseRequest fills in what it leaves out). */
export type ArgsOf<V extends Verb> = Partial<RequestOf<V>['args']>;

export type { ResultOf, EventOf, ControlResult, StatusReply } from './replies.js';

/** The error object of an error reply (LauncherError.toJSON() shape). */
export interface WireError {
  code: ErrorCode;
  message: string;
  context: Record<string, unknown>;
}

/** A decoded reply, as the client sees it. */
export type Reply =
  | { kind: 'event'; id: number | null; event: object }
  | { kind: 'result'; id: number | null; result: object }
  | { kind: 'error'; id: number | null; error: WireError };

function protocolError(message: string, context: ErrorContext = {}): LauncherError {
  return new LauncherError('LAUNCHER_CONTROL_PROTOCOL', message, context);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return describeValue(value, 'json');
}

function isRequestId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function parseJsonLine(line: string): unknown {
  const bytes = Buffer.byteLength(line);
  if (bytes > MAX_LINE_BYTES) {
    throw protocolError(`request line is ${bytes} bytes; the limit is ${MAX_LINE_BYTES}`, { limit: MAX_LINE_BYTES, received: String(bytes) });
  }
  try {
    return JSON.parse(line) as unknown;
  } catch (error) {
    throw protocolError(`request is not valid JSON: ${(error as Error).message}`, { expected: 'one JSON object per line' });
  }
}

/** The request id of `line` when it can be read, else null (for error replies to bad lines). */
export function requestIdOf(line: string): number | null {
  if (Buffer.byteLength(line) > MAX_LINE_BYTES) return null;
  try {
    const value = JSON.parse(line) as unknown;
    return isPlainObject(value) && isRequestId(value.id) ? value.id : null;
  } catch {
    return null;
  }
}

function checkKeys(object: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw protocolError(`unknown key ${JSON.stringify(key)} in ${where}; expected ${allowed.join(', ') || 'no keys'}`, {
        key: `${where}.${key}`,
        expected: allowed.join(', ') || 'no keys',
      });
    }
  }
}

function parseUnits(value: unknown, verb: Verb, required: boolean): string[] {
  if (value === undefined && !required) return [];
  if (!Array.isArray(value)) {
    throw protocolError(`args.units of "${verb}" must be an array of unit names, got ${describe(value)}`, {
      key: 'args.units', expected: 'an array of unit names', received: describe(value),
    });
  }
  if (required && value.length === 0) {
    throw protocolError(`"${verb}" needs at least one unit in args.units`, { key: 'args.units', expected: 'at least one unit name' });
  }
  return value.map((name: unknown, index) => {
    if (typeof name !== 'string' || !isUnitName(name)) {
      throw protocolError(`args.units[${index}]: ${describe(name)} is not a unit name`, {
        key: `args.units[${index}]`,
        expected: UNIT_NAME_RULE,
        received: describe(name),
      });
    }
    return name;
  });
}

/**
 * Parses and validates one request line (without its newline). Returns a
 * normalised Request or throws LauncherError('LAUNCHER_CONTROL_PROTOCOL') naming
 * the key, what was expected and what was received. Never throws anything else.
 */
export function parseRequest(line: string): Request {
  const value = parseJsonLine(line);
  if (!isPlainObject(value)) {
    throw protocolError(`request must be a JSON object, got ${describe(value)}`, { expected: 'an object', received: describe(value) });
  }
  checkKeys(value, ['v', 'id', 'verb', 'args'], 'request');
  if (value.v !== PROTOCOL_VERSION) {
    throw protocolError(`unsupported protocol version ${describe(value.v)}; this launcher speaks v${PROTOCOL_VERSION}`, {
      key: 'v', expected: String(PROTOCOL_VERSION), received: describe(value.v),
    });
  }
  if (!isRequestId(value.id)) {
    throw protocolError(`request id must be a non-negative integer, got ${describe(value.id)}`, {
      key: 'id', expected: 'a non-negative integer', received: describe(value.id),
    });
  }
  const verb = value.verb;
  if (typeof verb !== 'string' || !(VERBS as readonly string[]).includes(verb)) {
    throw protocolError(`unknown verb ${describe(verb)}; expected one of ${VERBS.join(', ')}`, {
      key: 'verb', expected: VERBS.join(', '), received: describe(verb),
    });
  }
  const args = value.args ?? {};
  if (!isPlainObject(args)) {
    throw protocolError(`args must be an object, got ${describe(args)}`, { key: 'args', expected: 'an object', received: describe(args) });
  }
  const id = value.id;
  switch (verb as Verb) {
    case 'ping':
    case 'reload':
    case 'down':
    case 'upgrade':
      checkKeys(args, [], 'args');
      return { v: 1, id, verb: verb as 'ping' | 'reload' | 'down' | 'upgrade', args: {} };
    case 'status':
      checkKeys(args, ['units'], 'args');
      return { v: 1, id, verb: 'status', args: { units: parseUnits(args.units, 'status', false) } };
    case 'start':
    case 'stop':
    case 'restart':
      checkKeys(args, ['units'], 'args');
      return { v: 1, id, verb: verb as 'start' | 'stop' | 'restart', args: { units: parseUnits(args.units, verb as Verb, true) } };
    case 'logs':
      checkKeys(args, ['units', 'lines', 'follow'], 'args');
      return { v: 1, id, verb: 'logs', args: { units: parseUnits(args.units, 'logs', false), lines: parseLines(args.lines), follow: parseFollow(args.follow) } };
  }
}

function parseLines(value: unknown): number {
  if (value === undefined) return DEFAULT_LOG_REQUEST_LINES;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_LOG_LINES) {
    throw protocolError(`args.lines of "logs" must be an integer 0..${MAX_LOG_LINES}, got ${describe(value)}`, {
      key: 'args.lines', expected: `an integer 0..${MAX_LOG_LINES}`, received: describe(value),
    });
  }
  return value;
}

function parseFollow(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw protocolError(`args.follow of "logs" must be true or false, got ${describe(value)}`, {
      key: 'args.follow', expected: 'a boolean', received: describe(value),
    });
  }
  return value;
}

/** The request line (with its newline) for `verb` and `args`; not validated here (see parseRequest). */
export function encodeRequest(id: number, verb: string, args: object = {}): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, id, verb, args }) + '\n';
}

/** A progress event line for request `id`. */
export function encodeEvent(id: number, event: object): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, id, event }) + '\n';
}

/** The final success line for request `id`. */
export function encodeResult(id: number, result: object): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, id, result }) + '\n';
}

/** The final error line for request `id` (null when the request's id was unreadable). */
export function encodeError(id: number | null, error: LauncherError): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, id, error: error.toJSON() }) + '\n';
}

/**
 * Decodes one reply line (client side). Throws LAUNCHER_CONTROL_PROTOCOL when
 * the line is not a v1 reply with exactly one of event, result or error.
 */
export function parseReply(line: string): Reply {
  let value: unknown;
  try {
    value = JSON.parse(line) as unknown;
  } catch {
    throw protocolError('the launcher sent a reply that is not JSON', { received: line.slice(0, 200) });
  }
  if (!isPlainObject(value) || value.v !== PROTOCOL_VERSION) {
    throw protocolError(`the launcher replied with protocol version ${describe(isPlainObject(value) ? value.v : value)}; this client speaks v${PROTOCOL_VERSION}`, {
      key: 'v', expected: String(PROTOCOL_VERSION),
    });
  }
  const id = isRequestId(value.id) ? value.id : null;
  const kinds = (['event', 'result', 'error'] as const).filter((kind) => value[kind] !== undefined);
  const kind = kinds.length === 1 ? kinds[0] : undefined;
  if (kind === 'event' && isPlainObject(value.event)) return { kind, id, event: value.event };
  if (kind === 'result' && isPlainObject(value.result)) return { kind, id, result: value.result };
  if (kind === 'error' && isPlainObject(value.error)) {
    const e = value.error;
    return {
      kind,
      id,
      error: {
        code: (typeof e.code === 'string' ? e.code : 'LAUNCHER_INTERNAL') as ErrorCode,
        message: typeof e.message === 'string' ? e.message : 'the launcher reported an error without a message',
        context: isPlainObject(e.context) ? e.context : {},
      },
    };
  }
  throw protocolError('the launcher sent a reply with none or several of event, result, error', { received: line.slice(0, 200) });
}
