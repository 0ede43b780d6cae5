// The errors `socket-launcher/service` throws, each with a stable `code` (the
// launcher's own codes: see src/errors.ts) and a `context`. A bad argument stays
// a TypeError or RangeError, as in Node's own API, with its code added.
import { LauncherError, syscallError, type ErrorContext } from '../errors.js';

/** A TypeError or RangeError that says which argument was wrong. */
export type InvalidArgumentError = (TypeError | RangeError) & { readonly code: 'LAUNCHER_INVALID_ARGUMENT' };

/** A bad argument: `new Kind(message)` with code LAUNCHER_INVALID_ARGUMENT. */
export function invalidArgument(Kind: TypeErrorConstructor | RangeErrorConstructor, message: string): InvalidArgumentError {
  return Object.assign(new Kind(message), { code: 'LAUNCHER_INVALID_ARGUMENT' as const });
}

/** LISTEN_* was meant for this process but cannot be used (sd_listen_fds returns -EINVAL then). */
export function malformedListenFds(problem: string, context: ErrorContext = {}): LauncherError {
  return new LauncherError('LAUNCHER_LISTEN_FDS', problem, context);
}

/**
 * sendDatagram's result as sd_notify's caller sees it: nothing once sent (0); LAUNCHER_SYSCALL
 * with errno and errnoName in the context when the datagram could not be delivered.
 */
export function checkDelivered(ret: number, address: string): void {
  if (ret < 0) throw syscallError('sendmsg', -ret, { address });
}
