// `up --log-dir DIR`: DIR/<unit>.log per unit and DIR/launcher.log, each rotated
// at a size limit keeping a fixed number of numbered files (<name>.log.1 newest),
// so disk use per file is bounded by (keep + 1) × maxBytes by construction.
// Writes are asynchronous, one in flight per file, batched; a disk that cannot
// keep up drops lines past a bounded backlog and says how many.
import { closeSync, existsSync, fstatSync, openSync, renameSync, unlinkSync, write, writev, writevSync } from 'node:fs';
import path from 'node:path';
import { lineText, type LineChunk } from '../supervisor/spawn-output.js';
import { cutUtf8, fitLines, FRAME_SLACK, framedSize, frameRange } from './log-frame.js';

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

/** Size of the slabs a busy file's lines are framed into (a whole chunk of a child's output fits). */
const SLAB_BYTES = 256 * 1024;
/** A file holding no slab puts an append smaller than this in a Buffer of its own: a quiet unit never holds a slab. */
const SMALL_APPEND_BYTES = 4 * 1024;
/** Written-out slabs kept for reuse, shared by all files (so a busy log makes no garbage). */
const FREE_SLABS_MAX = 16;
const freeSlabs: Slab[] = [];

/** Memory a file's lines are framed into, appended to in order; reused once written out. */
class Slab {
  used = 0;
  /** Queued or in-flight segments that point into this slab. */
  refs = 0;
  /** False once its file appends elsewhere: then it is free when no segment points into it. */
  open = true;
  constructor(readonly buf: Buffer) {}

  get room(): number {
    return this.buf.length - FRAME_SLACK - this.used;
  }

  static take(bytes: number): Slab {
    const slab = bytes <= SLAB_BYTES ? freeSlabs.pop() : undefined;
    if (!slab) return new Slab(Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, bytes) + FRAME_SLACK));
    slab.used = 0;
    slab.refs = 0;
    slab.open = true;
    return slab;
  }

  release(): void {
    this.refs--;
    this.recycle();
  }

  recycle(): void {
    if (!this.open && this.refs === 0 && this.buf.length === SLAB_BYTES + FRAME_SLACK && freeSlabs.length < FREE_SLABS_MAX) freeSlabs.push(this);
  }
}

/** Whole lines (or, as the rest of a short write, the end of some) waiting for the disk: buf[start, end). */
interface Segment {
  readonly buf: Buffer;
  /** The slab `buf` is, or null for a Buffer of its own (a small append, the drop marker). */
  readonly slab: Slab | null;
  start: number;
  end: number;
  lines: number;
}

function release(segments: readonly Segment[]): void {
  for (const s of segments) s.slab?.release();
}

/** The bytes of `segments`, as views for writev. */
function views(segments: readonly Segment[]): Buffer[] {
  return segments.map((s) => s.buf.subarray(s.start, s.end));
}

/** Newlines in `buf`. */
function countLines(buf: Buffer): number {
  let n = 0;
  for (let at = buf.indexOf(10); at >= 0; at = buf.indexOf(10, at + 1)) n++;
  return n;
}

/** One log file with size-based rotation. */
export class RotatingFile {
  private fd: number | null = null;
  private size = 0;
  /** The slab lines are framed into while the file is busy (none while it is idle). */
  private current: Slab | null = null;
  /** Whole lines waiting for the disk, a segment per run of appends (not per line). */
  private pending: Segment[] = [];
  /** The last pending segment while appends may still extend it. */
  private appendable: Segment | null = null;
  /** The unwritten end of a short write (maybe mid-line), written first. */
  private head: Segment[] | null = null;
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
    let bytes = Buffer.byteLength(line) + 1;
    // A line longer than a whole file is cut to fit in one.
    const cut = bytes > this.opts.maxBytes ? cutUtf8(Buffer.from(line), this.opts.maxBytes - 1) : null;
    if (cut) bytes = cut.length + 1;
    if (this.pendingBytes + bytes > FILE_PENDING_MAX_BYTES) {
      this.dropped++;
      return;
    }
    const { buf, slab, at } = this.room(bytes, bytes);
    if (cut) cut.copy(buf, at);
    else buf.write(line, at, 'utf8');
    buf[at + bytes - 1] = 10;
    this.append(buf, slab, at, at + bytes, 1);
  }

  /**
   * Queues a chunk of a child's lines, each after `prefix`, framed straight into the
   * file's slab. Never throws, never blocks on the disk; past the backlog bound,
   * lines are dropped and counted.
   */
  writeLines(prefix: Uint8Array, lines: LineChunk): void {
    let i = 0;
    while (i < lines.count && !this.closed) {
      const size = framedSize(prefix.length, lines, i);
      if (size > this.opts.maxBytes) {
        // Longer than a whole file (rare): cut like any such line.
        this.write(Buffer.from(prefix).toString() + lineText(lines, i));
        i++;
        continue;
      }
      const budget = FILE_PENDING_MAX_BYTES - this.pendingBytes;
      if (size > budget) {
        this.dropped += lines.count - i;
        return;
      }
      // (What the rest of the chunk needs matters only to a file holding no slab.)
      const wanted = this.current ? size : fitLines(prefix.length, lines, i, budget, this.opts.maxBytes).bytes;
      const { buf, slab, at } = this.room(size, wanted);
      const { next } = fitLines(prefix.length, lines, i, Math.min(buf.length - FRAME_SLACK - at, budget), this.opts.maxBytes);
      this.append(buf, slab, at, frameRange(buf, at, prefix, lines, i, next), next - i);
      i = next;
    }
  }

  /** Writes what is queued (waiting for a write in flight), then closes the file. */
  async close(): Promise<void> {
    await this.drain(true);
    this.dropAll(null);
    this.dropSlab();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** Writes what is queued now, synchronously after any write in flight (before an upgrade's exec). */
  async flushAll(): Promise<void> {
    await this.drain(false);
  }

  private async drain(closing: boolean): Promise<void> {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.writing) await new Promise<void>((resolve) => (this.idle = resolve));
    if (closing) this.closed = true;
    try {
      for (;;) {
        let batch = this.nextBatch();
        if (batch === null) break;
        while (batch.length > 0) {
          const written = writevSync(this.fd as number, views(batch));
          this.size += written;
          batch = this.written(batch, written);
        }
      }
    } catch (error) {
      this.report(error as Error);
    }
  }

  /**
   * Where to put at least `bytes` (up to `wanted`) more bytes: the current slab while it
   * has room; a Buffer of their own when the file holds no slab and `wanted` is small;
   * else a slab (which becomes the current one).
   */
  private room(bytes: number, wanted: number): { buf: Buffer; slab: Slab | null; at: number } {
    const current = this.current;
    if (current && current.room >= bytes) return { buf: current.buf, slab: current, at: current.used };
    if (!current && wanted < SMALL_APPEND_BYTES) return { buf: Buffer.allocUnsafe(wanted + FRAME_SLACK), slab: null, at: 0 };
    this.dropSlab();
    const slab = Slab.take(bytes);
    this.current = slab;
    return { buf: slab.buf, slab, at: 0 };
  }

  /** Stops appending to the current slab (it is reused once what is in it is written). */
  private dropSlab(): void {
    if (!this.current) return;
    this.current.open = false;
    this.current.recycle();
    this.current = null;
  }

  private append(buf: Buffer, slab: Slab | null, start: number, end: number, lines: number): void {
    const last = this.appendable;
    if (slab) {
      slab.used = end;
      if (last && last.slab === slab && last.end === start) {
        last.end = end;
        last.lines += lines;
        this.pendingBytes += end - start;
        this.schedule();
        return;
      }
      slab.refs++;
    }
    const segment: Segment = { buf, slab, start, end, lines };
    this.pending.push(segment);
    this.appendable = slab ? segment : null;
    this.pendingBytes += end - start;
    this.schedule();
  }

  private schedule(): void {
    if (!this.writing) this.scheduled ??= setImmediate(() => this.flush());
  }

  /** After `written` bytes of `batch` went out: its segments done are released; returns the rest. */
  private written(batch: Segment[], written: number): Segment[] {
    let left = written;
    let i = 0;
    for (; i < batch.length; i++) {
      const s = batch[i] as Segment;
      if (left < s.end - s.start) {
        s.start += left;
        break;
      }
      left -= s.end - s.start;
      s.slab?.release();
    }
    return batch.slice(i);
  }

  private flush(): void {
    this.scheduled = undefined;
    if (this.writing || this.closed) return;
    let batch: Segment[] | null;
    try {
      batch = this.nextBatch();
    } catch (error) {
      this.dropAll(error as Error);
      return;
    }
    if (batch === null) {
      // Idle: hold no slab.
      this.dropSlab();
      return;
    }
    this.writing = true;
    const fd = this.fd as number;
    const taken = batch;
    const done = (error: Error | null, written: number): void => {
      this.writing = false;
      if (error) {
        release(taken);
        this.dropAll(error);
      } else {
        this.size += written;
        this.failing = false;
        const rest = this.written(taken, written);
        if (rest.length > 0) this.head = rest;
      }
      if (this.idle) {
        const resolve = this.idle;
        this.idle = undefined;
        resolve();
        return;
      }
      // After a failure the next line tries again: retrying at once would spin on a full disk.
      if (!error && (this.pending.length > 0 || this.head || this.dropped > 0)) this.flush();
      else this.dropSlab();
    };
    if (taken.length === 1) {
      const s = taken[0] as Segment;
      write(fd, s.buf, s.start, s.end - s.start, null, done);
    } else writev(fd, views(taken), null, done);
  }

  /**
   * The next bytes to write: whole lines that fit under maxBytes (rotating first when
   * not even the first fits), the drop marker first when lines were dropped. Null when
   * nothing is queued. Opens the file when needed. Throws on open/rotate failures.
   */
  private nextBatch(): Segment[] | null {
    if (this.head) {
      const head = this.head;
      this.head = null;
      return head;
    }
    if (this.dropped > 0) {
      const marker = Buffer.from(this.opts.marker(this.dropped) + '\n');
      this.dropped = 0;
      this.pending.unshift({ buf: marker, slab: null, start: 0, end: marker.length, lines: 1 });
      this.pendingBytes += marker.length;
    }
    if (this.pending.length === 0) return null;
    // What is taken must not grow while it is written.
    this.appendable = null;
    this.ensureOpen();
    const first = this.pending[0] as Segment;
    const firstLine = first.buf.indexOf(10, first.start) + 1 - first.start;
    if (this.size > 0 && this.size + firstLine > this.opts.maxBytes) this.rotate();
    const room = this.opts.maxBytes - this.size;
    if (this.pendingBytes <= room) {
      // The usual case: everything queued fits.
      const all = this.pending;
      this.pending = [];
      this.pendingBytes = 0;
      return all;
    }
    const taken: Segment[] = [];
    let bytes = 0;
    while (this.pending.length > 0) {
      const s = this.pending[0] as Segment;
      if (bytes + s.end - s.start <= room) {
        taken.push(s);
        bytes += s.end - s.start;
        this.pending.shift();
        continue;
      }
      // The whole lines of this segment that still fit (at least the first line of all).
      // (No search when none can: a negative offset would search from the end.)
      const limit = s.start + room - bytes;
      const fits = limit > s.start ? s.buf.lastIndexOf(10, limit - 1) : -1;
      const last = bytes === 0 ? Math.max(fits, s.buf.indexOf(10, s.start)) : fits;
      if (last >= s.start) {
        const part: Segment = { buf: s.buf, slab: s.slab, start: s.start, end: last + 1, lines: countLines(s.buf.subarray(s.start, last + 1)) };
        if (s.slab) s.slab.refs++;
        taken.push(part);
        bytes += part.end - part.start;
        s.start = last + 1;
        s.lines -= part.lines;
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

  /** A failed write or rotation loses what was queued (counted), reported once (error null: at close, nothing to report). */
  private dropAll(error: Error | null): void {
    for (const s of this.pending) this.dropped += s.lines;
    release(this.pending);
    release(this.head ?? []);
    this.pending = [];
    this.appendable = null;
    this.head = null;
    this.pendingBytes = 0;
    if (error === null) return;
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

  async flush(): Promise<void> {
    await Promise.all([...this.files.values()].map((f) => f.flushAll()));
  }
}
