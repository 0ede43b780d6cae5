// The one error type of the launcher: a stable `code` plus structured context.
// Messages may change between versions; codes may not. The CLI maps codes to
// exit codes in one place (exitCodeFor), so callers never pick exit codes.
import { errnoName } from './sys/errno.js';

/** Every code the launcher raises. Append only; never rename. */
export type ErrorCode =
  | 'LAUNCHER_USAGE' // bad command line
  | 'LAUNCHER_UNIT_SYNTAX' // a unit file is not valid TOML
  | 'LAUNCHER_UNIT_INVALID' // a unit file is TOML but breaks the schema
  | 'LAUNCHER_UNITS_INVALID' // a unit directory with one or more of the above (see `errors`)
  | 'LAUNCHER_UNKNOWN_UNIT' // a verb named a unit the launcher does not have
  | 'LAUNCHER_BIND' // a socket could not be created, bound or listened on
  | 'LAUNCHER_SYSCALL' // any other failing libc call
  | 'LAUNCHER_SPAWN' // a service could not be started
  | 'LAUNCHER_RESTART_FAILED' // a handoff rolled back: the old child keeps serving
  | 'LAUNCHER_UNIT_FAILED' // a unit reached the failed state
  | 'LAUNCHER_BUSY' // an operation on the unit is already under way
  | 'LAUNCHER_ALREADY_RUNNING' // another launcher owns the control socket
  | 'LAUNCHER_UNREACHABLE' // no launcher answers on the control socket
  | 'LAUNCHER_CONTROL_PROTOCOL' // a malformed control message
  | 'LAUNCHER_CONTROL_DENIED' // a control peer with the wrong uid
  | 'LAUNCHER_CONTROL_TIMEOUT' // a control request got no final reply within the client's timeout
  | 'LAUNCHER_INTERNAL' // a bug: anything not raised on purpose
  | 'LAUNCHER_UPGRADE_FAILED' // an in-place upgrade was refused by its check or its exec failed: nothing changed
  | 'LAUNCHER_UNSUPPORTED' // the native part cannot run here (not 64-bit Linux, koffi missing)
  | 'LAUNCHER_LISTEN_FDS' // socket-launcher/service: LISTEN_* meant for this process is malformed
  | 'LAUNCHER_NO_SOCKET' // socket-launcher/service: no inherited socket by that name
  | 'LAUNCHER_INVALID_ARGUMENT'; // socket-launcher/service: a bad argument (a TypeError or RangeError)

/** Structured context; every field optional, all JSON-serialisable. */
export interface ErrorContext {
  file?: string;
  line?: number;
  column?: number;
  key?: string;
  expected?: string;
  received?: string;
  unit?: string;
  socket?: string;
  address?: string;
  syscall?: string;
  errno?: number;
  errnoName?: string;
  /** For aggregate errors (LAUNCHER_UNITS_INVALID): every error found. */
  errors?: LauncherError[];
  [extra: string]: unknown;
}

export class LauncherError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LauncherError';
    this.code = code;
    this.context = context;
  }

  /** A plain object for JSON replies and logs (nested errors included). */
  toJSON(): { code: ErrorCode; message: string; context: Record<string, unknown> } {
    const { errors, ...rest } = this.context;
    const context: Record<string, unknown> = { ...rest };
    if (errors) context.errors = errors.map((e) => e.toJSON());
    return { code: this.code, message: this.message, context };
  }
}

/** SPEC exit codes: 0 done; 1 the operation failed; 2 usage or unit-file error; 3 no launcher reachable. */
export function exitCodeFor(code: ErrorCode): 1 | 2 | 3 {
  switch (code) {
    case 'LAUNCHER_USAGE':
    case 'LAUNCHER_UNIT_SYNTAX':
    case 'LAUNCHER_UNIT_INVALID':
    case 'LAUNCHER_UNITS_INVALID':
    case 'LAUNCHER_UNKNOWN_UNIT':
    case 'LAUNCHER_CONTROL_PROTOCOL':
      return 2;
    case 'LAUNCHER_UNREACHABLE':
    case 'LAUNCHER_CONTROL_TIMEOUT':
      return 3;
    default:
      return 1;
  }
}

export function isLauncherError(e: unknown): e is LauncherError {
  return e instanceof LauncherError;
}

/** Any thrown value as a LauncherError; unknown throws become LAUNCHER_INTERNAL. */
export function asLauncherError(e: unknown): LauncherError {
  if (e instanceof LauncherError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new LauncherError('LAUNCHER_INTERNAL', message, {}, { cause: e });
}

/**
 * LAUNCHER_SYSCALL for a call that failed with `errno` ("bind: EADDRINUSE"), with
 * syscall, errno and errnoName in the context. src/sys/ returns -errno; a caller to
 * whom the failure means nothing more specific turns it into this.
 */
export function syscallError(syscall: string, errno: number, context: ErrorContext = {}): LauncherError {
  const name = errnoName(errno);
  return new LauncherError('LAUNCHER_SYSCALL', `${syscall}: ${name}`, { ...context, syscall, errno, errnoName: name });
}

/** `ret` when a src/sys/ call succeeded (>= 0); otherwise throws syscallError(syscall, -ret). */
export function orThrow(ret: number, syscall: string, context: ErrorContext = {}): number {
  if (ret >= 0) return ret;
  throw syscallError(syscall, -ret, context);
}
