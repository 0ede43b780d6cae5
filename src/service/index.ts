// What a Node service imports as `socket-launcher/service`: its inherited sockets by
// name and sd_notify readiness. Nothing launcher-specific: the same calls
// work under systemd, and are no-ops when run by hand.
export { listeners, listener, SD_LISTEN_FDS_START, type Listener } from './listeners.js';
export { watchdogInterval } from './watchdog.js';
export { store, stored, unstore, type Storable } from './fd-store.js';
/** sd_notify helpers: notify.ready(), notify.status(text), notify.send({...}), ... */
export * as notify from './notify.js';
export type { InvalidArgumentError } from './errors.js';
