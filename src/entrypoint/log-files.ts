// `up --log-dir DIR`: DIR/<unit>.log per unit and DIR/launcher.log, each rotated
// at a size limit keeping a fixed number of numbered files (<name>.log.1 newest),
// so disk use per file is bounded by (keep + 1) × maxBytes by construction.
// Writes are asynchronous, one in flight per file, batched; a disk that cannot
// keep up drops lines past a bounded backlog and says how many.
import { closeSync, existsSync, fstatSync, openSync, renameSync, unlinkSync, write, writeSync } from 'node:fs';
import path from 'node:path';

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
  /** Lines without their newline, and their byte lengths with it (kept apart: no Buffer per line). */
  private pending: string[] = [];
  private pendingSizes: number[] = [];
  /** The unwritten end of a short write (bytes, maybe mid-character), written first. */
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
    // Lines are kept without their newline (one string less per line); sizes count it.
    let text = line;
    let bytes = Buffer.byteLength(text) + 1;
    if (bytes > this.opts.maxBytes) {
      text = Buffer.from(text).subarray(0, this.opts.maxBytes - 1).toString();
      bytes = Buffer.byteLength(text) + 1;
    }
    if (this.pendingBytes + bytes > FILE_PENDING_MAX_BYTES) {
      this.dropped++;
      return;
    }
    this.pending.push(text);
    this.pendingSizes.push(bytes);
    this.pendingBytes += bytes;
    if (!this.writing) this.scheduled ??= setImmediate(() => this.flush());
  }

  /** Writes what is queued (waiting for a write in flight), then closes the file. */
  async close(): Promise<void> {
    await this.drain(true);
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
      while (this.pending.length > 0 || this.dropped > 0 || this.head) {
        const batch = this.nextBatch();
        if (batch === null) break;
        writeSync(this.fd as number, batch);
        this.size += batch.length;
      }
    } catch (error) {
      this.report(error as Error);
    }
  }

  private flush(): void {
    this.scheduled = undefined;
    if (this.writing || this.closed) return;
    let batch: Buffer | null;
    try {
      batch = this.nextBatch();
    } catch (error) {
      this.dropAll(error as Error);
      return;
    }
    if (batch === null) return;
    this.writing = true;
    const fd = this.fd as number;
    write(fd, batch, 0, batch.length, null, (error, written) => {
      this.writing = false;
      if (error) this.dropAll(error);
      else {
        this.size += written;
        this.failing = false;
        if (written < batch.length) this.requeueFront(batch.subarray(written));
      }
      if (this.idle) {
        const resolve = this.idle;
        this.idle = undefined;
        resolve();
        return;
      }
      // After a failure the next line tries again: retrying at once would spin on a full disk.
      if (!error && (this.pending.length > 0 || this.head || this.dropped > 0)) this.flush();
    });
  }

  /**
   * The next bytes to write: whole lines that fit under maxBytes (rotating first when
   * not even the first fits), the drop marker first when lines were dropped. Null when
   * nothing is queued. Opens the file when needed. Throws on open/rotate failures.
   */
  private nextBatch(): Buffer | null {
    if (this.head) {
      const head = this.head;
      this.head = null;
      return head;
    }
    if (this.dropped > 0) {
      const marker = this.opts.marker(this.dropped);
      this.dropped = 0;
      this.pending.unshift(marker);
      this.pendingSizes.unshift(Buffer.byteLength(marker) + 1);
      this.pendingBytes += Buffer.byteLength(marker) + 1;
    }
    if (this.pending.length === 0) return null;
    this.ensureOpen();
    const first = this.pendingSizes[0] as number;
    if (this.size > 0 && this.size + first > this.opts.maxBytes) this.rotate();
    const room = this.opts.maxBytes - this.size;
    if (this.pendingBytes <= room) {
      // The usual case: everything queued fits; no per-line bookkeeping.
      const all = this.pending.join('\n') + '\n';
      this.pending = [];
      this.pendingSizes = [];
      this.pendingBytes = 0;
      return Buffer.from(all);
    }
    let bytes = 0;
    let count = 0;
    for (const size of this.pendingSizes) {
      if (count > 0 && bytes + size > room) break;
      bytes += size;
      count++;
    }
    const taken = this.pending.splice(0, count);
    this.pendingSizes.splice(0, count);
    this.pendingBytes -= bytes;
    return Buffer.from(taken.join('\n') + '\n');
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

  /** What a short write left over: written next, before any queued line. */
  private requeueFront(rest: Buffer): void {
    this.head = rest;
  }

  /** A failed write or rotation loses what was queued (counted), reported once. */
  private dropAll(error: Error): void {
    this.dropped += this.pending.length;
    this.pending = [];
    this.pendingSizes = [];
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
