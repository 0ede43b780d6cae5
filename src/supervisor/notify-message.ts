// Turns one sd_notify datagram into the instance events and notes it carries,
// in the order systemd applies them; unknown or malformed fields are warnings.
import type { NotifyMessage } from './contract.js';
import type { InstanceEvent } from './states.js';

/** What one datagram asks of an instance. */
export interface NotifyEffects {
  /** STATUS=: the new free-form status text. */
  readonly statusText?: string;
  /** MAINPID=: another pid whose datagrams count as the service's own. */
  readonly mainPid?: number;
  /** Table events in the order to dispatch them. */
  readonly events: readonly InstanceEvent[];
  /** Fields that were present but unusable (", ignoring" is the caller's to add). */
  readonly warnings: readonly string[];
}

const POSITIVE_INT = /^[1-9][0-9]*$/;

/**
 * Reads MAINPID, STATUS, EXTEND_TIMEOUT_USEC, RELOADING, STOPPING, READY and
 * WATCHDOG (=1 ping, =trigger failure). Order matters: a datagram saying
 * `RELOADING=1` and `READY=1` together, or `MAINPID=` with `READY=1`, must
 * note the first before acting on the second. Other keys (BARRIER, ERRNO,
 * FDSTORE, ...) are not ours to act on and are skipped silently.
 */
export function notifyEffects(msg: NotifyMessage): NotifyEffects {
  const events: InstanceEvent[] = [];
  const warnings: string[] = [];
  const f = msg.fields;
  let mainPid: number | undefined;

  const mainPidText = f.get('MAINPID');
  if (mainPidText !== undefined) {
    if (POSITIVE_INT.test(mainPidText)) mainPid = Number(mainPidText);
    else warnings.push(`MAINPID=${mainPidText} is not a pid`);
  }
  const extend = f.get('EXTEND_TIMEOUT_USEC');
  if (extend !== undefined) {
    if (/^[0-9]+$/.test(extend)) events.push({ type: 'extend_timeout', ms: Math.ceil(Number(extend) / 1000) });
    else warnings.push(`EXTEND_TIMEOUT_USEC=${extend} is not a number of microseconds`);
  }
  if (f.get('RELOADING') === '1') events.push({ type: 'notify_reloading' });
  if (f.get('STOPPING') === '1') events.push({ type: 'notify_stopping' });
  if (f.get('READY') === '1') events.push({ type: 'ready' });
  const watchdog = f.get('WATCHDOG');
  if (watchdog === '1') events.push({ type: 'watchdog_ping' });
  else if (watchdog === 'trigger') events.push({ type: 'watchdog_timeout' });
  else if (watchdog !== undefined) warnings.push(`WATCHDOG=${watchdog} is neither 1 nor trigger`);

  const statusText = f.get('STATUS');
  return { ...(statusText !== undefined ? { statusText } : {}), ...(mainPid !== undefined ? { mainPid } : {}), events, warnings };
}
