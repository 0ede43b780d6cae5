// `up --log-dir DIR`: DIR/<unit>.log per unit and DIR/launcher.log, each rotated
// at a size limit keeping a fixed number of numbered files (<name>.log.1 newest),
// so disk use per file is bounded by (keep + 1) × maxBytes by construction.
// Writes are asynchronous, one in flight per file, batched; a disk that cannot
// keep up drops lines past a bounded backlog and says how many.
import { closeSync, existsSync, fstatSync, openSync, renameSync, unlinkSync, write, writev, writevSync } from 'node:fs';
import path from 'node:path';
import { lineText, type LineChunk } from '../supervisor/spawn-output.js';
import { cutUtf8, framedSize, frameLines } from './log-frame.js';

/** Bytes a file may hold waiting for the disk before lines are dropped. */
export const FILE_PENDING_MAX_BYTES = 4 * 1024 * 1024;

export interface RotationOptions {
  /** Rotate before a write would make the file larger than this. */
  readonly maxBytes: number;
  /** Old files kept: <name>.1 … <name>.<keep>. */
  readonly keep: number;
  /** The line written after `n` lines were dropped. */
  readonly marker: (n: number) => string;
  /** A write, rotation or open failed (reported once until a write succeeds again); must not write to this file. */
  readonly onError: (file: string, error: Error) => void;
}

/** One log file with size-based rotation. */
export class RotatingFile {
  private fd: number | null = null;
  private size = 0;
  /** Whole lines waiting for the disk, a Buffer per chunk or event (not per line), and how many lines each holds. */
  private pending: Buffer[] = [];
  private pendingLines: number[] = [];
  /** The unwritten end of a short write (bytes, maybe mid-line), written first. */
  private head: Buffer | null = null;
  private pendingBytes = 0;
  private dropped = 0;
  private writing = false;
  private failing = false;
  private closed = false;
  private scheduled: NodeJS.Immediate | undefined;
  private idle: (() => void) | undefined;

  constructor(readonly file: string, private readonly opts: RotationOptions) {}

  /** Queues one line (newline added). Never throws, never blocks on the disk. */
  write(line: string): void {
    if (this.closed) return;
    // A line longer than a whole file is cut to fit in one.
    const buf = cutUtf8(Buffer.from(line), this.opts.maxBytes - 1);
    const bytes = buf.length + 1;
    if (this.pendingBytes + bytes > FILE_PENDING_MAX_BYTES) {
      this.dropped++;
      return;
    }
    const out = Buffer.allocUnsafe(bytes);
    buf.copy(out);
    out[buf.length] = 10;
    this.queue(out, 1);
  }

  /**
   * Queues a chunk of a child's lines, each after `prefix` (the chunk becomes one
   * Buffer). Never throws, never blocks on the disk; past the backlog bound, lines
   * are dropped and counted.
   */
  writeLines(prefix: Uint8Array, lines: LineChunk): void {
    let i = 0;
    while (i < lines.count && !this.closed) {
      const { buf, next } = frameLines(prefix, lines, i, FILE_PENDING_MAX_BYTES - this.pendingBytes, this.opts.maxBytes);
      if (next > i) this.queue(buf, next - i);
      i = next;
      if (i >= lines.count) break;
      if (framedSize(prefix.length, lines, i) > this.opts.maxBytes) {
        // Longer than a whole file (rare): cut like any such line.
        this.write(Buffer.from(prefix).toString() + lineText(lines, i));
        i++;
      } else {
        this.dropped += lines.count - i;
        break;
      }
    }
  }

  /** Writes what is queued (waiting for a write in flight), then closes the file. */
  async close(): Promise<void> {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.writing) await new Promise<void>((resolve) => (this.idle = resolve));
    this.closed = true;
    try {
      for (;;) {
        const batch = this.nextBatch();
        if (batch === null) break;
        const total = byteLength(batch);
        let written = 0;
        while (written < total) written += writevSync(this.fd as number, written === 0 ? batch : unwritten(batch, written));
        this.size += total;
      }
    } catch (error) {
      this.report(error as Error);
    }
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private queue(buf: Buffer, lines: number): void {
    this.pending.push(buf);
    this.pendingLines.push(lines);
    this.pendingBytes += buf.length;
    if (!this.writing) this.scheduled ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = undefined;
    if (this.writing || this.closed) return;
    let batch: Buffer[] | null;
    try {
      batch = this.nextBatch();
    } catch (error) {
      this.dropAll(error as Error);
      return;
    }
    if (batch === null) return;
    this.writing = true;
    const fd = this.fd as number;
    const done = (error: Error | null, written: number): void => {
      this.writing = false;
      if (error) this.dropAll(error);
      else {
        this.size += written;
        this.failing = false;
        if (written < byteLength(batch)) this.head = Buffer.concat(unwritten(batch, written));
      }
      if (this.idle) {
        const resolve = this.idle;
        this.idle = undefined;
        resolve();
        return;
      }
      // After a failure the next line tries again: retrying at once would spin on a full disk.
      if (!error && (this.pending.length > 0 || this.head || this.dropped > 0)) this.flush();
    };
    if (batch.length === 1) {
      const one = batch[0] as Buffer;
      write(fd, one, 0, one.length, null, done);
    } else writev(fd, batch, null, done);
  }

  /**
   * The next bytes to write: whole lines that fit under maxBytes (rotating first when
   * not even the first fits), the drop marker first when lines were dropped. Null when
   * nothing is queued. Opens the file when needed. Throws on open/rotate failures.
   */
  private nextBatch(): Buffer[] | null {
    if (this.head) {
      const head = this.head;
      this.head = null;
      return [head];
    }
    if (this.dropped > 0) {
      const marker = Buffer.from(this.opts.marker(this.dropped) + '\n');
      this.dropped = 0;
      this.pending.unshift(marker);
      this.pendingLines.unshift(1);
      this.pendingBytes += marker.length;
    }
    if (this.pending.length === 0) return null;
    this.ensureOpen();
    const firstLine = (this.pending[0] as Buffer).indexOf(10) + 1;
    if (this.size > 0 && this.size + firstLine > this.opts.maxBytes) this.rotate();
    const room = this.opts.maxBytes - this.size;
    if (this.pendingBytes <= room) {
      // The usual case: everything queued fits.
      const all = this.pending;
      this.pending = [];
      this.pendingLines = [];
      this.pendingBytes = 0;
      return all;
    }
    const taken: Buffer[] = [];
    let bytes = 0;
    while (this.pending.length > 0) {
      const buf = this.pending[0] as Buffer;
      if (bytes + buf.length <= room) {
        taken.push(buf);
        bytes += buf.length;
        this.pending.shift();
        this.pendingLines.shift();
        continue;
      }
      // The whole lines of this buffer that still fit (at least the first line of all).
      const last = bytes === 0 ? Math.max(buf.lastIndexOf(10, room - 1), buf.indexOf(10)) : buf.lastIndexOf(10, room - bytes - 1);
      if (last >= 0) {
        const part = buf.subarray(0, last + 1);
        taken.push(part);
        bytes += part.length;
        this.pending[0] = buf.subarray(last + 1);
        this.pendingLines[0] = (this.pendingLines[0] as number) - countLines(part);
      }
      break;
    }
    this.pendingBytes -= bytes;
    return taken;
  }

  private ensureOpen(): void {
    if (this.fd !== null) return;
    this.fd = openSync(this.file, 'a', 0o640);
    this.size = fstatSync(this.fd).size;
  }

  /** <name> → <name>.1 → … → <name>.<keep>; the oldest is removed. */
  private rotate(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    const numbered = (i: number): string => `${this.file}.${i}`;
    if (this.opts.keep === 0) unlinkSync(this.file);
    else {
      if (existsSync(numbered(this.opts.keep))) unlinkSync(numbered(this.opts.keep));
      for (let i = this.opts.keep - 1; i >= 1; i--) if (existsSync(numbered(i))) renameSync(numbered(i), numbered(i + 1));
      renameSync(this.file, numbered(1));
    }
    this.ensureOpen();
  }

  /** A failed write or rotation loses what was queued (counted), reported once. */
  private dropAll(error: Error): void {
    this.dropped += this.pendingLines.reduce((sum, n) => sum + n, 0);
    this.pending = [];
    this.pendingLines = [];
    this.head = null;
    this.pendingBytes = 0;
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // already unusable
      }
      this.fd = null;
    }
    this.report(error);
  }

  private report(error: Error): void {
    if (this.failing) return;
    this.failing = true;
    this.opts.onError(this.file, error);
  }
}

/** Bytes in `bufs`. */
function byteLength(bufs: readonly Buffer[]): number {
  let n = 0;
  for (const b of bufs) n += b.length;
  return n;
}

/** What is left of `bufs` after its first `written` bytes. */
function unwritten(bufs: readonly Buffer[], written: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = written;
  for (const b of bufs) {
    if (skip >= b.length) skip -= b.length;
    else {
      rest.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
  }
  return rest;
}

/** Newlines in `buf`. */
function countLines(buf: Buffer): number {
  let n = 0;
  for (let at = buf.indexOf(10); at >= 0; at = buf.indexOf(10, at + 1)) n++;
  return n;
}

/** The files of one log directory: one per unit, and launcher.log for the launcher's events. */
export class LogDir {
  private readonly files = new Map<string, RotatingFile>();

  constructor(readonly dir: string, private readonly opts: RotationOptions) {}

  /** The file of `unit` (null: launcher.log), created on first use. */
  fileOf(unit: string | null): RotatingFile {
    const name = unit ?? 'launcher';
    let file = this.files.get(name);
    if (!file) {
      file = new RotatingFile(path.join(this.dir, `${name}.log`), this.opts);
      this.files.set(name, file);
    }
    return file;
  }

  async close(): Promise<void> {
    await Promise.all([...this.files.values()].map((f) => f.close()));
  }
}
