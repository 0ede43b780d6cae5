// The vocabulary of a service instance's lifecycle: its states (the names
// `launcher status` shows) and the events that move it between them.
import type { ExitStatus } from './contract.js';

/** Every state an instance can be in, in the order status tables list them. */
export const STATES = ['inactive', 'waiting', 'starting', 'running', 'stopping', 'backoff', 'failed'] as const;

/**
 * - `inactive`: no child, nothing scheduled (never started, stopped, or exited cleanly for good).
 * - `waiting`: on-demand unit, no child until the first connection or datagram (`activate`).
 * - `starting`: a child exists and is not ready yet (READY=1 pending under `ready = "notify"`).
 * - `running`: the child is ready and serving.
 * - `stopping`: the child is on its way out (stop requested, STOPPING=1, or killed for a missed deadline).
 * - `backoff`: the child exited and the restart policy waits `restart_delay` before the next start.
 * - `failed`: the child exited for good with a failure, or the start limit was hit; a manual start clears it.
 */
export type State = (typeof STATES)[number];

/**
 * Every event an instance's table handles. `restart` is not here on purpose: a
 * restart is a unit-level operation (handoff.ts) composed of these events on an
 * old and a new instance. sd_notify datagrams arrive as `ready`, `watchdog_ping`,
 * `watchdog_timeout` (WATCHDOG=trigger), `notify_stopping`, `notify_reloading`
 * and `extend_timeout` (see notify-message.ts).
 */
export const EVENT_TYPES = [
  'start', // a manual start (also the first start at `up`)
  'activate', // on-demand: the first connection or datagram arrived
  'stop', // a requested stop: no restart follows
  'spawned', // the child process exists (sent by the spawn action itself)
  'ready', // READY=1 from the child (or spawned, under ready = "started")
  'exited', // the current child exited and was reaped
  'ready_timeout', // ready_timeout elapsed without READY=1
  'stop_timeout', // stop_timeout elapsed after the stop signal: time for SIGKILL
  'backoff_elapsed', // restart_delay is over: start again
  'watchdog_ping', // WATCHDOG=1
  'watchdog_timeout', // no WATCHDOG=1 within watchdog, or WATCHDOG=trigger
  'notify_stopping', // STOPPING=1
  'notify_reloading', // RELOADING=1
  'extend_timeout', // EXTEND_TIMEOUT_USEC=
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Extra data some events carry. */
interface EventPayloads {
  exited: { readonly status: ExitStatus };
  extend_timeout: { readonly ms: number };
}

/** One event as dispatched to an instance: `{ type }` plus the payload its type needs. */
export type InstanceEvent = {
  [K in EventType]: { readonly type: K } & (K extends keyof EventPayloads ? EventPayloads[K] : unknown);
}[EventType];
