// The one shape of a socket failure: LAUNCHER_BIND saying where (a unit's socket, the
// control socket, a notify socket) and why, with the failing syscall and errno in the
// context. Every place that binds turns its failures into one here.
import { LauncherError, isLauncherError, type ErrorContext } from '../errors.js';
import { describeErrno, errnoName, errnoOf } from '../sys/errno.js';
import type { SocketSpec } from '../units/types.js';

/** `<where>: <why>` as LAUNCHER_BIND with `context` (address, syscall, errno, errnoName, path, ...). */
export function bindError(where: string, why: string, context: ErrorContext = {}): LauncherError {
  return new LauncherError('LAUNCHER_BIND', `${where}: ${why}`, context);
}

/** A failed syscall at `where`, as bindError: `bind` itself is implied, others are named. */
export function syscallBindError(where: string, syscall: string, errno: number, context: ErrorContext = {}, hint = ''): LauncherError {
  const what = describeErrno(errno);
  const why = syscall === 'bind' ? what : `${syscall}: ${what}`;
  return bindError(where, why + hint, { ...context, syscall, errno, errnoName: errnoName(errno) });
}

/**
 * Any error thrown while setting up a socket at `where`, as LAUNCHER_BIND: a failed call
 * (LAUNCHER_SYSCALL with syscall and errno, or a Node fs error with `code` and `syscall`)
 * is re-worded; an error with a code of its own (LAUNCHER_BIND, LAUNCHER_ALREADY_RUNNING,
 * LAUNCHER_UNSUPPORTED, ...) passes through; anything else keeps its message.
 */
export function asBindError(where: string, error: unknown, context: ErrorContext = {}): LauncherError {
  if (isLauncherError(error)) {
    const { syscall, errno } = error.context;
    if (error.code !== 'LAUNCHER_SYSCALL') return error;
    if (typeof syscall === 'string' && typeof errno === 'number') return syscallBindError(where, syscall, errno, { ...error.context, ...context });
    return bindError(where, error.message, { ...error.context, ...context });
  }
  const nodeError = error as NodeJS.ErrnoException | null;
  if (typeof nodeError?.code === 'string' && typeof nodeError.syscall === 'string') {
    return syscallBindError(where, nodeError.syscall, errnoOf(nodeError), context);
  }
  return bindError(where, error instanceof Error ? error.message : String(error), context);
}

/** `web: socket "http" 127.0.0.1:8080`, and its context: how a unit's socket is named in errors. */
function unitSocket(unit: string, spec: SocketSpec): { where: string; context: ErrorContext } {
  return { where: `${unit}: socket "${spec.name}" ${spec.listenText}`, context: { unit, socket: spec.name, address: spec.listenText } };
}

/** bindError for a unit's socket, plus whatever `extra` holds. */
export function bindFailure(unit: string, spec: SocketSpec, why: string, extra: ErrorContext = {}): LauncherError {
  const { where, context } = unitSocket(unit, spec);
  return bindError(where, why, { ...context, ...extra });
}

/** syscallBindError for a unit's socket. */
export function syscallFailure(unit: string, spec: SocketSpec, syscall: string, errno: number, hint = ''): LauncherError {
  const { where, context } = unitSocket(unit, spec);
  return syscallBindError(where, syscall, errno, context, hint);
}

/**
 * asBindError for a unit's socket; a LAUNCHER_USAGE stays one (how the launcher was
 * started is wrong: a bogus LISTEN_FDS), located at the unit.
 */
export function asBindFailure(unit: string, spec: SocketSpec, error: unknown): LauncherError {
  const { where, context } = unitSocket(unit, spec);
  if (isLauncherError(error) && error.code === 'LAUNCHER_USAGE') {
    return new LauncherError('LAUNCHER_USAGE', `${where}: ${error.message}`, { ...error.context, ...context });
  }
  return asBindError(where, error, context);
}
