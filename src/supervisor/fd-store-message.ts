// Applies the fd-store fields of one sd_notify datagram (FDSTORE=1, FDNAME=,
// FDSTOREREMOVE=1, FDPOLL=0) to an instance's store, as systemd does, and
// accounts for every fd the datagram carried: kept or closed, never leaked.
import { close } from '../sys/libc.js';
import { fdNameProblem } from '../units/fd-name.js';
import type { NotifyMessage } from './contract.js';
import type { FdStore } from './fd-store.js';

/** FDNAME's default, as systemd's. */
export const DEFAULT_FD_NAME = 'stored';

/** What a datagram did to the store, as lines for the log. */
export interface FdStoreOutcome {
  readonly info: string[];
  /** Problems (", ignoring" is already part of each). */
  readonly warnings: string[];
}

/**
 * Stores or removes fds per `msg`; closes every passed fd that is not kept.
 * `store` is undefined (and `max` 0) when the sender is not a service
 * instance of a unit with fd_store_max > 0. Never throws for bad input.
 */
export function applyFdStoreMessage(msg: NotifyMessage, store: FdStore | undefined, max: number): FdStoreOutcome {
  const fds = [...(msg.fds ?? [])];
  const info: string[] = [];
  const warnings: string[] = [];
  const closeAll = (): void => fds.splice(0).forEach((fd) => close(fd));
  const f = msg.fields;
  const wantsStore = f.get('FDSTORE') === '1';
  const wantsRemove = f.get('FDSTOREREMOVE') === '1';
  if (!wantsStore && !wantsRemove) {
    closeAll(); // fds without FDSTORE=1 (systemd-notify's BARRIER=1 pipe) are closed: that releases the sender
    return { info, warnings };
  }
  const nameText = f.get('FDNAME');
  const problem = nameText === undefined ? undefined : fdNameProblem(nameText);
  if (problem) {
    warnings.push(`FDNAME=${JSON.stringify(nameText)} ${problem}; closing ${fds.length} passed fd(s), ignoring`);
    closeAll();
    return { info, warnings };
  }
  if (wantsRemove) {
    if (nameText === undefined) warnings.push('FDSTOREREMOVE=1 without FDNAME=, ignoring');
    else if (store) info.push(`removed ${store.remove(nameText)} stored fd(s) named "${nameText}" (FDSTOREREMOVE=1)`);
    closeAll();
    return { info, warnings };
  }
  if (fds.length === 0) {
    warnings.push('FDSTORE=1 without any fd attached, ignoring');
    return { info, warnings };
  }
  if (!store || max <= 0) {
    warnings.push(`FDSTORE=1 but fd_store_max is 0; closing ${fds.length} fd(s), ignoring`);
    closeAll();
    return { info, warnings };
  }
  const name = nameText ?? DEFAULT_FD_NAME;
  const poll = f.get('FDPOLL') !== '0';
  const outcome = store.add(fds.splice(0), name, poll, max);
  if (outcome.kept > 0) info.push(`stored ${outcome.kept} fd(s) named "${name}" (${store.size}/${max} kept)`);
  if (outcome.duplicates > 0) info.push(`${outcome.duplicates} fd(s) named "${name}" already stored; closed the duplicate(s)`);
  if (outcome.overflow > 0) warnings.push(`fd store full (fd_store_max = ${max}): closed ${outcome.overflow} extra fd(s) named "${name}", ignoring`);
  return { info, warnings };
}
