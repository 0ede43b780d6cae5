// Waits on raw fds that Node's event loop cannot watch (listening sockets the
// launcher must never accept on, unix datagram sockets): one poll(2) at a time
// runs off the main thread as a koffi async call; an eventfd wakes it whenever
// the set changes. Callbacks run on the main thread. The one mechanism in src/sys/
// rather than a call: it throws LAUNCHER_SYSCALL when its eventfd cannot be made.
import { orThrow } from '../errors.js';
import * as libc from './libc.js';

export const POLLIN = 0x001;
export const POLLPRI = 0x002;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;

const EFD_CLOEXEC = libc.O_CLOEXEC;
const EFD_NONBLOCK = libc.O_NONBLOCK;
const POLLFD_SIZE = 8; // struct pollfd { int fd; short events; short revents; }

/** Called with the revents poll reported for the fd. */
export type ReadyCallback = (revents: number) => void;

export interface Watch {
  readonly fd: number;
  /** Stop watching; safe to call twice, and from inside the callback. */
  cancel(): void;
}

interface Entry {
  fd: number;
  events: number;
  callback: ReadyCallback;
  oneshot: boolean;
  cancelled: boolean;
}

/**
 * A set of fds watched for readiness. Level-triggered: a persistent watch's
 * callback must consume what made the fd ready (accept, recv) or it is called
 * again on the next round. A oneshot watch is cancelled before its callback
 * runs (on-demand start uses it: the launcher never accepts, the child does).
 * Close an fd only after cancelling its watch.
 */
export class FdWatcher {
  private readonly entries = new Set<Entry>();
  private readonly wakeFd: number;
  private inFlight = false;
  /** Consecutive failed poll rounds (for backoff). */
  private failures = 0;
  private stopped = false;
  /** A rearm is queued for the end of this tick (changes to the set are batched). */
  private rearmQueued = false;
  private readonly wakeBuf = Buffer.alloc(8);
  private readonly oneBuf = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);

  constructor() {
    this.wakeFd = orThrow(libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), 'eventfd');
  }

  /** Watch fd for `events` (default POLLIN). */
  watch(fd: number, callback: ReadyCallback, options: { events?: number; oneshot?: boolean } = {}): Watch {
    if (this.stopped) throw new Error('FdWatcher is stopped');
    const entry: Entry = { fd, events: options.events ?? POLLIN, callback, oneshot: options.oneshot ?? false, cancelled: false };
    this.entries.add(entry);
    this.queueRearm();
    return {
      fd,
      cancel: () => {
        if (entry.cancelled) return;
        entry.cancelled = true;
        this.entries.delete(entry);
        this.queueRearm();
      },
    };
  }

  /** Number of live watches (for tests and status). */
  get size(): number {
    return this.entries.size;
  }

  /** Cancel every watch and release the eventfd once the poll in flight returns. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const e of this.entries) e.cancelled = true;
    this.entries.clear();
    if (this.inFlight) this.wake();
    else libc.close(this.wakeFd);
  }

  private wake(): void {
    libc.write(this.wakeFd, this.oneBuf);
  }

  /**
   * Rearm once at the end of this tick, however many watches changed in it: starting
   * 1000 on-demand units is then one poll round, not 1000 rounds of 1..1000 fds each
   * (quadratic garbage that grows the young heap for the launcher's whole life).
   */
  private queueRearm(): void {
    if (this.rearmQueued) return;
    this.rearmQueued = true;
    queueMicrotask(() => {
      this.rearmQueued = false;
      this.rearm();
    });
  }

  /** Start a poll round, or interrupt the one in flight so it sees the new set. */
  private rearm(): void {
    if (this.stopped) return;
    if (this.inFlight) {
      this.wake();
      return;
    }
    if (this.entries.size === 0) return;
    const round = [...this.entries];
    const fds = Buffer.alloc(POLLFD_SIZE * (round.length + 1));
    fds.writeInt32LE(this.wakeFd, 0);
    fds.writeInt16LE(POLLIN, 4);
    round.forEach((e, i) => {
      fds.writeInt32LE(e.fd, POLLFD_SIZE * (i + 1));
      fds.writeInt16LE(e.events, POLLFD_SIZE * (i + 1) + 4);
    });
    this.inFlight = true;
    libc.pollAsync(fds, round.length + 1, -1, (ret) => {
      this.inFlight = false;
      if (this.stopped) {
        libc.close(this.wakeFd);
        return;
      }
      if (ret < 0) {
        // poll ran on a koffi worker thread, so its errno cannot be read here. EINTR (a
        // signal) is routine; anything persistent must not spin: back off, and say so once.
        this.failures++;
        if (this.failures === 10) process.emitWarning('poll(2) on the launcher\'s watched fds keeps failing, retrying with backoff');
        setTimeout(() => this.rearm(), Math.min(1000, 2 ** this.failures));
        return;
      }
      this.failures = 0;
      if ((fds.readInt16LE(6) & POLLIN) !== 0) libc.read(this.wakeFd, this.wakeBuf);
      round.forEach((e, i) => {
        const revents = fds.readInt16LE(POLLFD_SIZE * (i + 1) + 6);
        if (revents === 0 || e.cancelled) return;
        if (e.oneshot) {
          e.cancelled = true;
          this.entries.delete(e);
        }
        try {
          e.callback(revents);
        } catch (error) {
          process.emitWarning(`fd watcher callback for fd ${e.fd} threw: ${String(error)}, ignoring`);
        }
      });
      this.rearm();
    });
  }
}

let shared: FdWatcher | undefined;

/** The process-wide watcher (one poll thread for the whole launcher). */
export function fdWatcher(): FdWatcher {
  shared ??= new FdWatcher();
  return shared;
}

/** Stop the process-wide watcher so the process can exit. */
export function stopFdWatcher(): void {
  shared?.stop();
  shared = undefined;
}

