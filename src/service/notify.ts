// sd_notify for Node services: one datagram per call to $NOTIFY_SOCKET (a
// path or "@abstract"), the same protocol under the launcher and systemd.
// Without NOTIFY_SOCKET every call is a harmless no-op returning false, so
// the same service also runs on its own.
import { sendDatagram } from '../sys/dgram.js';
import { checkDelivered, invalidArgument } from './errors.js';
import { E } from '../sys/errno.js';

/** errnos that mean the supervisor is gone (its socket file, or its listener): nothing to tell. */
const SUPERVISOR_GONE: ReadonlySet<number> = new Set([E.ENOENT, E.ECONNREFUSED]);

/**
 * Sends `fields` as newline-separated KEY=VALUE lines in one datagram.
 * Returns true once sent, false when NOTIFY_SOCKET is unset or empty, or when
 * the supervisor behind it is gone (ENOENT, ECONNREFUSED: a launcher that was
 * killed; its successor takes the service's sockets over and then stops it, and
 * a STOPPING=1 in its SIGTERM handler must not crash it then).
 * Throws a TypeError for a key that is empty or holds '=', a newline or NUL,
 * or a value holding a newline or NUL (they would change the message); throws
 * an Error with `code`/`errno` for any other failure to deliver.
 */
export function send(fields: Record<string, string>, env: NodeJS.ProcessEnv = process.env): boolean {
  const address = env.NOTIFY_SOCKET;
  if (!address) return false;
  const lines = Object.entries(fields).map(([key, value]) => {
    if (key === '' || /[=\n\0]/.test(key)) throw invalidArgument(TypeError, `sd_notify key ${JSON.stringify(key)} is not a valid name`);
    if (/[\n\0]/.test(value)) throw invalidArgument(TypeError, `sd_notify ${key}= value must not hold a newline or NUL byte`);
    return `${key}=${value}`;
  });
  const ret = sendDatagram(address, Buffer.from(lines.join('\n') + '\n'));
  if (SUPERVISOR_GONE.has(-ret)) return false;
  checkDelivered(ret, address);
  return true;
}

/** READY=1: start-up finished, the service is serving. */
export function ready(): boolean {
  return send({ READY: '1' });
}

/** STATUS=text: a one-line status shown by `launcher status` / `systemctl status`. */
export function status(text: string): boolean {
  return send({ STATUS: text });
}

/** STOPPING=1: the service began shutting down. */
export function stopping(): boolean {
  return send({ STOPPING: '1' });
}

/**
 * RELOADING=1 with MONOTONIC_USEC (systemd's Type=notify-reload needs it);
 * send ready() once the reload is done.
 */
export function reloading(): boolean {
  const monotonicUsec = process.hrtime.bigint() / 1000n; // CLOCK_MONOTONIC on Linux, as systemd wants
  return send({ RELOADING: '1', MONOTONIC_USEC: String(monotonicUsec) });
}

/** WATCHDOG=1: a keep-alive ping; send it at least every watchdogInterval()/2. */
export function watchdog(): boolean {
  return send({ WATCHDOG: '1' });
}

/** EXTEND_TIMEOUT_USEC: ask for `ms` more milliseconds from now before a start/stop timeout. */
export function extendTimeout(ms: number): boolean {
  if (!Number.isFinite(ms) || ms < 0) throw invalidArgument(RangeError, `extendTimeout(ms) needs a non-negative number, got ${ms}`);
  return send({ EXTEND_TIMEOUT_USEC: String(Math.round(ms * 1000)) });
}

/** MAINPID=pid: another process (e.g. one this service forked) is now the main one. */
export function mainpid(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) throw invalidArgument(RangeError, `mainpid(pid) needs a positive integer, got ${pid}`);
  return send({ MAINPID: String(pid) });
}
