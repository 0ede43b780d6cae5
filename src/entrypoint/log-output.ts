// The launcher's own stdout as a log sink that never blocks and never loops on
// its own failure: lines are written without blocking (a non-blocking reopen of
// a pipe or terminal, MSG_DONTWAIT on a socket), batched per event-loop turn; a
// reader that cannot keep up costs dropped lines (counted, then one marker); a
// stdout that breaks (EPIPE, EIO, ...) is noticed once and never written again.
import { fstatSync, writeSync } from 'node:fs';
import { close, E, errnoName, write as writeFd } from '../sys/libc.js';
import { reopenNonBlocking, retireToDevNull, sendNonBlocking } from '../sys/pipe.js';
import type { LineChunk } from '../supervisor/spawn-output.js';
import { frameLines } from './log-frame.js';

/** Bytes held for a reader that is behind; beyond this, lines are dropped and counted. */
export const PENDING_MAX_BYTES = 256 * 1024;
/** While lines wait for a slow reader, how often the launcher tries again. */
const RETRY_MS = 50;

/** How the sink writes: returns bytes written or -errno (never throws). */
type WriteFn = (buf: Buffer) => number;

export interface FdSinkOptions {
  /** The line written (without newline) after `n` lines were dropped. */
  readonly marker: (n: number) => string;
  /** Called once when the output breaks; must not write to this sink. */
  readonly onBroken: (reason: string) => void;
}

/** A write-only line sink on an fd the launcher did not open (its stdout). */
export class FdSink {
  private readonly writeFn: WriteFn | null;
  private readonly ownFd: number | null;
  /** fds 0-2 that are the same file as `fd` (a terminal or pipe shared by stdin/stderr). */
  private readonly sameAsFd: number[];
  /** stdout is /dev/null: every line would be thrown away, so none is written. */
  private readonly discards: boolean;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private dropped = 0;
  private broken = false;
  private scheduled: NodeJS.Immediate | undefined;
  private retry: NodeJS.Timeout | undefined;

  /** Opens a non-blocking way to write to `fd`; a closed or unusable fd is broken from the start. */
  constructor(fd: number, private readonly opts: FdSinkOptions) {
    const { writeFn, ownFd, problem } = openWriter(fd);
    this.writeFn = writeFn;
    this.ownFd = ownFd;
    this.sameAsFd = sameFileFds(fd);
    this.discards = isDevNull(fd);
    if (problem !== undefined) this.breakDown(problem);
  }

  /** False when nothing would read the lines (stdout is /dev/null, or broke): callers may skip rendering them. */
  get wantsLines(): boolean {
    return !this.broken && !this.discards;
  }

  /** Queues one line (a newline is added). Never throws, never blocks. */
  write(line: string): void {
    if (this.broken || this.discards) return;
    const buf = Buffer.from(line + '\n');
    if (this.pendingBytes + buf.length > PENDING_MAX_BYTES) {
      this.dropped++;
      return;
    }
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    this.scheduled ??= setImmediate(() => this.flush());
  }

  /**
   * Queues a chunk of a child's lines, each after `prefix` (one Buffer for the chunk).
   * Lines past the bound of unwritten bytes are dropped and counted.
   */
  writeLines(prefix: Uint8Array, lines: LineChunk): void {
    if (this.broken || this.discards) return;
    const { buf, next } = frameLines(prefix, lines, 0, PENDING_MAX_BYTES - this.pendingBytes);
    this.dropped += lines.count - next;
    if (next === 0) return;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    this.scheduled ??= setImmediate(() => this.flush());
  }

  /** Whether the output broke (no more writes happen). */
  get isBroken(): boolean {
    return this.broken;
  }

  /** Writes what it can now (at exit); drops the rest. */
  flushNow(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.flush();
    clearTimeout(this.retry);
  }

  private flush(): void {
    this.scheduled = undefined;
    if (this.broken || this.writeFn === null) return;
    if (this.dropped > 0 && this.pending.length === 0) this.queueMarker();
    while (this.pending.length > 0) {
      const chunk = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
      const n = this.writeFn(chunk);
      if (n === -E.EINTR) continue;
      if (n === -E.EAGAIN || n === -E.EWOULDBLOCK) {
        this.pending = [chunk];
        this.retry ??= setTimeout(() => {
          this.retry = undefined;
          this.flush();
        }, RETRY_MS).unref();
        return;
      }
      if (n < 0) {
        this.breakDown(errnoName(-n));
        return;
      }
      this.pendingBytes -= n;
      this.pending = n < chunk.length ? [chunk.subarray(n)] : [];
      if (this.pending.length === 0 && this.dropped > 0) this.queueMarker();
    }
  }

  private queueMarker(): void {
    const buf = Buffer.from(this.opts.marker(this.dropped) + '\n');
    this.dropped = 0;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
  }

  private breakDown(reason: string): void {
    if (this.broken) return;
    this.broken = true;
    this.pending = [];
    this.pendingBytes = 0;
    clearTimeout(this.retry);
    if (this.ownFd !== null) close(this.ownFd);
    // Whatever else might write there (a library, Node's exit-time terminal reset) meets /dev/null.
    if (this.sameAsFd.length > 0) retireToDevNull(this.sameAsFd);
    this.opts.onBroken(reason);
  }
}

/**
 * A non-blocking writer for `fd` by its type: a regular file is written directly (it
 * never makes a writer wait on a reader); a socket with MSG_DONTWAIT; a pipe, FIFO or
 * character device through a private non-blocking reopen of /proc/self/fd/N.
 */
function openWriter(fd: number): { writeFn: WriteFn | null; ownFd: number | null; problem?: string } {
  let stats;
  try {
    stats = fstatSync(fd);
  } catch (error) {
    return { writeFn: null, ownFd: null, problem: `fd ${fd} is not open (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  if (stats.isFile()) {
    return {
      ownFd: null,
      writeFn: (buf) => {
        try {
          return writeSync(fd, buf);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
          // A full disk drops lines (the count shows); anything else ends the sink.
          return code === 'ENOSPC' ? -E.EAGAIN : -(E[code as keyof typeof E] ?? E.EIO);
        }
      },
    };
  }
  if (stats.isSocket()) return { ownFd: null, writeFn: (buf) => sendNonBlocking(fd, buf) };
  const own = reopenNonBlocking(fd);
  if (own < 0) return { writeFn: null, ownFd: null, problem: `cannot reopen fd ${fd} (${errnoName(-own)})` };
  return { ownFd: own, writeFn: (buf) => writeFd(own, buf) };
}

/** `fd` and those of fds 0-2 that are the same open file (dev and inode) as it. */
function sameFileFds(fd: number): number[] {
  try {
    const st = fstatSync(fd);
    return [...new Set([fd, 0, 1, 2])].filter((other) => {
      try {
        const o = fstatSync(other);
        return o.dev === st.dev && o.ino === st.ino;
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

/** Whether `fd` is the null device (character device 1:3). */
function isDevNull(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isCharacterDevice() && st.rdev === 0x103;
  } catch {
    return false;
  }
}
