// The fd store of one service instance (systemd's FileDescriptorStoreMax): fds a
// service handed over with FDSTORE=1, kept by the launcher and passed to the
// instance's next start after the unit's sockets. Plain data (fd numbers and
// names) so a launcher upgrade can carry it; hang-up watching is injected.
import { sameOpenFile } from '../sys/fds.js';
import { close } from '../sys/libc.js';

/** One kept fd. `poll`: dropped when its peer hangs up (FDPOLL=0 turns that off). */
export interface StoredFd {
  readonly fd: number;
  readonly name: string;
  readonly poll: boolean;
}

/** Watches a stored fd for POLLHUP/POLLERR; returns the cancel function. */
export type HangupWatch = (fd: number, onHangup: () => void) => () => void;

/** What add() did with the fds it was given. */
export interface AddOutcome {
  /** Newly kept. */
  readonly kept: number;
  /** Already in the store (the same open file): the duplicate was closed. */
  readonly duplicates: number;
  /** Over fd_store_max: closed. */
  readonly overflow: number;
}

/**
 * The fds kept for one instance, in the order they were stored. Owns every fd
 * it holds: remove(), trim() and clear() close them. A fd whose `poll` is set
 * is watched through `watch` and dropped (closed) when its peer hangs up.
 */
export class FdStore {
  readonly #entries: (StoredFd & { cancel: () => void })[] = [];
  readonly #watch: HangupWatch | undefined;
  readonly #onDrop: (entry: StoredFd) => void;

  constructor(options: { watch?: HangupWatch; onDrop?: (entry: StoredFd) => void } = {}) {
    this.#watch = options.watch;
    this.#onDrop = options.onDrop ?? (() => {});
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The kept fds in store order (the order they are passed at the next start). */
  entries(): readonly StoredFd[] {
    return this.#entries.map(({ fd, name, poll }) => ({ fd, name, poll }));
  }

  /**
   * Keeps `fds` under `name` while there is room under `max`; the store takes
   * ownership of every fd given: kept, or closed (a duplicate of a kept open
   * file, or over `max`).
   */
  add(fds: readonly number[], name: string, poll: boolean, max: number): AddOutcome {
    let kept = 0;
    let duplicates = 0;
    let overflow = 0;
    for (const fd of fds) {
      if (this.#holdsSameFile(fd)) {
        close(fd);
        duplicates++;
      } else if (this.#entries.length >= max) {
        close(fd);
        overflow++;
      } else {
        this.#keep({ fd, name, poll });
        kept++;
      }
    }
    return { kept, duplicates, overflow };
  }

  /** Closes and forgets every fd stored under `name`; returns how many. */
  remove(name: string): number {
    return this.#closeWhere((e) => e.name === name);
  }

  /** Closes the newest fds beyond `max` (fd_store_max lowered by a reload); returns how many. */
  trim(max: number): number {
    const extra = this.#entries.slice(Math.max(0, max));
    return this.#closeWhere((e) => extra.includes(e));
  }

  /** Closes everything (stop, unit removed, launcher shutdown). */
  clear(): void {
    this.#closeWhere(() => true);
  }

  #keep(entry: StoredFd): void {
    const record = { ...entry, cancel: () => {} };
    this.#entries.push(record);
    if (entry.poll && this.#watch) {
      record.cancel = this.#watch(entry.fd, () => {
        if (!this.#entries.includes(record)) return;
        this.#closeWhere((e) => e === record);
        this.#onDrop(entry);
      });
    }
  }

  #closeWhere(test: (entry: StoredFd & { cancel: () => void }) => boolean): number {
    let closed = 0;
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i]!;
      if (!test(entry)) continue;
      this.#entries.splice(i, 1);
      entry.cancel();
      close(entry.fd);
      closed++;
    }
    return closed;
  }

  /** The same open file description as one already kept (systemd's same_fd): a re-store after a restart. */
  #holdsSameFile(fd: number): boolean {
    return this.#entries.some((e) => sameOpenFile(e.fd, fd));
  }
}
