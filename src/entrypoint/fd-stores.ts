// The fd stores of one unit, one per instance index (a handoff's new child of
// index i inherits what the old child of index i stored). Watches stored fds
// for hang-ups on the launcher's poll thread and logs what each datagram did.
import type { SupervisorEvent } from '../supervisor/contract.js';
import { FdStore, type HangupWatch, type StoredFd } from '../supervisor/fd-store.js';
import { applyFdStoreMessage } from '../supervisor/fd-store-message.js';
import type { NotifyMessage } from '../supervisor/contract.js';
import { close, unreadBytes } from '../sys/libc.js';
import { fdWatcher, POLLERR, POLLHUP, POLLNVAL } from '../sys/poll.js';

type Log = (event: { readonly level: SupervisorEvent['level']; readonly message: string; readonly instance?: number; readonly pid?: number }) => void;

/** A stored fd as `status --json` shows it. */
export interface StoredFdStatus {
  readonly instance: number;
  readonly name: string;
}

/**
 * Per-instance fd stores of the unit `unit`. Survive crashes, restarts and
 * reloads (the launcher keeps this object with the unit); `clear()` on stop.
 */
export class UnitFdStores {
  readonly #stores = new Map<number, FdStore>();
  readonly #log: Log;

  constructor(log: Log) {
    this.#log = log;
  }

  /** Stores or closes msg.fds for instance `index` (null: no instance owns the sender). Never throws for bad input. */
  apply(msg: NotifyMessage, index: number | null, max: number): void {
    if (index === null) {
      // A sender that is none of the unit's processes (already logged as ignored): nothing it passed is kept.
      for (const fd of msg.fds ?? []) close(fd);
      return;
    }
    const store = max <= 0 ? undefined : this.#storeOf(index);
    const outcome = applyFdStoreMessage(msg, store, max);
    for (const message of outcome.info) this.#log({ level: 'info', message: `#${index}: ${message}`, pid: msg.pid, instance: index });
    for (const message of outcome.warnings) this.#log({ level: 'warn', message: `#${index}: ${message}`, pid: msg.pid, instance: index });
  }

  /** What instance `index` gets after the unit's sockets at its next start. */
  passedTo(index: number): readonly StoredFd[] {
    return this.#stores.get(index)?.entries() ?? [];
  }

  /** Every stored fd, by instance then store order. */
  list(): StoredFdStatus[] {
    return [...this.#stores.entries()]
      .sort(([a], [b]) => a - b)
      .flatMap(([instance, store]) => store.entries().map((e) => ({ instance, name: e.name })));
  }

  get count(): number {
    let n = 0;
    for (const store of this.#stores.values()) n += store.size;
    return n;
  }

  /** A reload changed the unit: fewer instances or a lower fd_store_max closes what no longer fits. */
  fit(instances: number, max: number): void {
    for (const [index, store] of this.#stores) {
      if (index >= instances) {
        store.clear();
        this.#stores.delete(index);
        continue;
      }
      const closed = store.trim(max);
      if (closed > 0) this.#log({ level: 'warn', message: `#${index}: fd_store_max is now ${max}: closed ${closed} stored fd(s)`, instance: index });
    }
  }

  /**
   * The store as plain data (fd numbers, names, poll flags per instance), for a
   * launcher upgrade to pass across its exec; the fds stay open and owned here.
   */
  snapshot(): { readonly instance: number; readonly fd: number; readonly name: string; readonly poll: boolean }[] {
    return [...this.#stores.entries()].flatMap(([instance, store]) => store.entries().map((e) => ({ instance, ...e })));
  }

  /** Takes over fds described by a snapshot (after an upgrade's exec): this object owns them from now on. */
  restore(entries: readonly { readonly instance: number; readonly fd: number; readonly name: string; readonly poll: boolean }[]): void {
    for (const e of entries) this.#storeOf(e.instance).add([e.fd], e.name, e.poll, Number.MAX_SAFE_INTEGER);
  }

  /** Closes every stored fd (stop, removal, shutdown). */
  clear(): void {
    for (const store of this.#stores.values()) store.clear();
    this.#stores.clear();
  }

  #storeOf(index: number): FdStore {
    let store = this.#stores.get(index);
    if (!store) {
      store = new FdStore({
        watch: hangupWatch((message) => this.#log({ level: 'info', message: `#${index}: ${message}`, instance: index })),
        onDrop: (entry) => this.#log({ level: 'info', message: `#${index}: stored fd "${entry.name}" hung up; dropped it`, instance: index }),
      });
      this.#stores.set(index, store);
    }
    return store;
  }
}

/**
 * POLLHUP/POLLERR on a stored fd drops it, unless data is still unread on it
 * (systemd #12086: the next child may still want what the peer sent before it
 * went away); then the fd is kept and no longer watched.
 */
function hangupWatch(note: (message: string) => void): HangupWatch {
  return (fd, onHangup) => {
    const watch = fdWatcher().watch(
      fd,
      (revents) => {
        if ((revents & (POLLHUP | POLLERR | POLLNVAL)) === 0) return;
        watch.cancel();
        const unread = unreadBytes(fd);
        if (unread > 0) {
          note(`a stored fd's peer hung up with ${unread} byte(s) unread; keeping it for the next start`);
          return;
        }
        onHangup();
      },
      { events: 0 },
    );
    return () => watch.cancel();
  };
}
