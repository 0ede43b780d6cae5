// The one shape of a socket failure: LAUNCHER_BIND naming the unit, the socket's
// fd name and its address, with the failing syscall and errno in the context.
import { getSystemErrorMap } from 'node:util';
import { LauncherError, isLauncherError } from '../errors.js';
import { errnoName } from '../sys/libc.js';
import type { SocketSpec } from '../units/types.js';

/** "address already in use" for EADDRINUSE: libuv's wording, which is strerror's in lower case. */
export function describeErrno(errno: number): string {
  return getSystemErrorMap().get(-errno)?.[1] ?? errnoName(errno);
}

/**
 * `web: socket "http" 127.0.0.1:8080: <why>` as LAUNCHER_BIND with { unit, socket, address }
 * plus whatever `extra` holds (syscall, errno, errnoName, path, ...).
 */
export function bindFailure(unit: string, spec: SocketSpec, why: string, extra: Record<string, unknown> = {}): LauncherError {
  return new LauncherError('LAUNCHER_BIND', `${unit}: socket "${spec.name}" ${spec.listenText}: ${why}`, {
    unit,
    socket: spec.name,
    address: spec.listenText,
    ...extra,
  });
}

/** A failed syscall on the socket, as bindFailure; `bind` itself is implied, others are named. */
export function syscallFailure(unit: string, spec: SocketSpec, syscall: string, errno: number, hint = ''): LauncherError {
  const what = describeErrno(errno);
  const why = syscall === 'bind' ? what : `${syscall}: ${what}`;
  return bindFailure(unit, spec, why + hint, { syscall, errno, errnoName: errnoName(errno) });
}

/**
 * Any error thrown while setting up a socket, as LAUNCHER_BIND: a LAUNCHER_BIND passes
 * through; a LAUNCHER_USAGE stays one, with the unit and socket added; a syscall error (LAUNCHER_SYSCALL with errno) or a Node fs error (with `code`)
 * is re-worded; anything else keeps its message.
 */
export function asBindFailure(unit: string, spec: SocketSpec, error: unknown): LauncherError {
  if (isLauncherError(error)) {
    if (error.code === 'LAUNCHER_BIND') return error;
    // How the launcher was started is wrong (a bogus LISTEN_FDS): a usage error, located at the unit.
    if (error.code === 'LAUNCHER_USAGE') {
      return new LauncherError('LAUNCHER_USAGE', `${unit}: socket "${spec.name}" ${spec.listenText}: ${error.message}`, {
        ...error.context, unit, socket: spec.name, address: spec.listenText,
      });
    }
    const { syscall, errno } = error.context;
    if (typeof syscall === 'string' && typeof errno === 'number') return syscallFailure(unit, spec, syscall, errno);
    return bindFailure(unit, spec, error.message, { cause: error.code });
  }
  const nodeError = error as NodeJS.ErrnoException;
  if (typeof nodeError?.errno === 'number' && typeof nodeError.syscall === 'string') {
    return syscallFailure(unit, spec, nodeError.syscall, Math.abs(nodeError.errno));
  }
  return bindFailure(unit, spec, error instanceof Error ? error.message : String(error));
}
