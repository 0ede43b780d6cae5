// The launcher's in-memory log: per unit, the last `log_lines` lines (and at most
// UNIT_LOG_BYTES of text), plus one ring for launcher events that name no unit.
// `launcher logs` reads the tail and follows new lines from here.
import { LineBlock, lineText, type LineChunk } from '../supervisor/spawn-output.js';
import type { LogRecord } from './log-record.js';

/** Default lines kept per unit (the unit key `log_lines`). */
export const DEFAULT_LOG_LINES = 1000;
/** Text kept per unit whatever `log_lines` says, so long lines cannot hold much memory. */
export const UNIT_LOG_BYTES = 4 * 1024 * 1024;
/** Lines kept of the launcher's own events that name no unit. */
export const LAUNCHER_LOG_LINES = 1000;
/** What a record costs beyond its text (object, numbers, strings shared by many). */
const RECORD_OVERHEAD = 96;

function sizeOf(record: LogRecord): number {
  return record.text.length * 2 + RECORD_OVERHEAD;
}

/** Where a chunk of a child's lines came from, and the seq and time of its lines. */
export interface LinesMeta {
  readonly unit: string;
  readonly instance: number;
  readonly pid: number;
  readonly stream: 'stdout' | 'stderr';
  /** The seq of the chunk's first line (the others follow one by one). */
  readonly seq: number;
  readonly time: number;
}

/** A copy of the last lines of one chunk (kept as bytes; records are made when read). */
class ChildLines {
  constructor(
    readonly block: LineBlock,
    /** The seq of the block's line 0. */
    private readonly seq0: number,
    private readonly meta: LinesMeta,
  ) {}

  record(i: number): LogRecord {
    const m = this.meta;
    return { seq: this.seq0 + i, time: m.time, unit: m.unit, instance: m.instance, pid: m.pid, stream: m.stream, level: 'info', text: this.block.text(i), fields: undefined };
  }

  get bytes(): number {
    return this.block.bytes + RECORD_OVERHEAD;
  }
}

type Entry = LogRecord | ChildLines;

/** Every line of `lines` as a LogRecord (seq, time and origin from `meta`). */
export function recordsOf(lines: LineChunk, meta: LinesMeta): LogRecord[] {
  const out: LogRecord[] = [];
  for (let i = 0; i < lines.count; i++) {
    out.push({ seq: meta.seq + i, time: meta.time, unit: meta.unit, instance: meta.instance, pid: meta.pid, stream: meta.stream, level: 'info', text: lineText(lines, i), fields: undefined });
  }
  return out;
}

/**
 * A ring of lines bounded in count and in bytes; oldest dropped first. A chunk of a
 * child's lines is one entry (a copy of at most `capacity` of its last lines).
 */
export class LogRing {
  private entries: Entry[] = [];
  /** Index of the oldest entry in `entries`. */
  private head = 0;
  private lines = 0;
  private bytes = 0;
  /** A dropped block, filled again by the next chunk (a busy unit's history makes no garbage). */
  private spare: LineBlock | null = null;

  constructor(private capacity: number, private readonly byteCap = UNIT_LOG_BYTES) {}

  /** Changes the line limit, keeping the newest lines that still fit. */
  resize(capacity: number): void {
    if (capacity === this.capacity) return;
    this.capacity = capacity;
    this.trim();
  }

  push(record: LogRecord): void {
    if (this.capacity === 0) return;
    this.entries.push(record);
    this.lines++;
    this.bytes += sizeOf(record);
    this.trim();
  }

  /** Keeps the last lines of a chunk (never more than the ring holds). */
  pushLines(lines: LineChunk, meta: LinesMeta): void {
    const n = Math.min(lines.count, this.capacity);
    if (n === 0) return;
    const entry = new ChildLines(LineBlock.copyLast(lines, n, this.spare), meta.seq + lines.count - n, meta);
    this.spare = null;
    this.entries.push(entry);
    this.lines += n;
    this.bytes += entry.bytes;
    this.trim();
  }

  /** The newest `n` records, oldest first. */
  last(n: number): LogRecord[] {
    const out: LogRecord[] = [];
    for (let e = this.entries.length - 1; e >= this.head && out.length < n; e--) {
      const entry = this.entries[e] as Entry;
      if (entry instanceof ChildLines) {
        for (let i = entry.block.count - 1; i >= entry.block.first && out.length < n; i--) out.push(entry.record(i));
      } else out.push(entry);
    }
    return out.reverse();
  }

  get size(): number {
    return this.lines;
  }

  /** Drops the oldest lines past the line limit, then whole entries past the byte limit (keeping the newest). */
  private trim(): void {
    while (this.lines > this.capacity) {
      const oldest = this.entries[this.head] as Entry;
      if (oldest instanceof ChildLines && oldest.block.kept > this.lines - this.capacity) {
        oldest.block.first += this.lines - this.capacity;
        this.lines = this.capacity;
      } else this.dropOldest();
    }
    while (this.bytes > this.byteCap && this.entries.length - this.head > 1) this.dropOldest();
  }

  private dropOldest(): void {
    const oldest = this.entries[this.head] as Entry;
    if (oldest instanceof ChildLines) {
      this.lines -= oldest.block.kept;
      this.bytes -= oldest.bytes;
      if (!this.spare || oldest.block.bytes > this.spare.bytes) this.spare = oldest.block;
    } else {
      this.lines--;
      this.bytes -= sizeOf(oldest);
    }
    this.entries[this.head] = undefined as unknown as Entry;
    this.head++;
    // Now and then, forget the dropped slots (amortised constant cost).
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}

/** Receives every record as it is taken; must not throw or block. */
export type Follower = (record: LogRecord) => void;

/**
 * Every unit's ring and the launcher's; lines also go to the followers whose
 * filter takes them. `linesOf(unit)` gives a unit's current `log_lines`.
 */
export class MemoryLog {
  private readonly rings = new Map<string, LogRing>();
  private readonly launcherRing = new LogRing(LAUNCHER_LOG_LINES);
  private readonly followers = new Set<{ units: ReadonlySet<string> | null; fn: Follower }>();

  /** A unit's current `log_lines` (the entrypoint points this at the running units). */
  linesOf: (unit: string) => number = () => DEFAULT_LOG_LINES;

  add(record: LogRecord): void {
    this.ringFor(record.unit).push(record);
    for (const f of this.followers) {
      if (f.units === null || (record.unit !== null && f.units.has(record.unit))) f.fn(record);
    }
  }

  /** A chunk of a child's lines: kept as bytes; records are made only for followers (and when read). */
  addLines(lines: LineChunk, meta: LinesMeta): void {
    this.ringFor(meta.unit).pushLines(lines, meta);
    if (this.followers.size === 0) return;
    let records: LogRecord[] | undefined;
    for (const f of this.followers) {
      if (f.units !== null && !f.units.has(meta.unit)) continue;
      records ??= recordsOf(lines, meta);
      for (const r of records) f.fn(r);
    }
  }

  /**
   * The newest `n` lines of `units` (every unit and the launcher's own events when
   * empty), interleaved in the order they were taken.
   */
  tail(units: readonly string[], n: number): LogRecord[] {
    const rings = units.length === 0 ? [this.launcherRing, ...this.rings.values()] : units.map((u) => this.ringFor(u));
    const merged = rings.flatMap((ring) => ring.last(n)).sort((a, b) => a.seq - b.seq);
    return merged.slice(Math.max(0, merged.length - n));
  }

  /** Calls `fn` with each new line of `units` (every line when empty); returns the unsubscribe function. */
  follow(units: readonly string[], fn: Follower): () => void {
    const entry = { units: units.length === 0 ? null : new Set(units), fn };
    this.followers.add(entry);
    return () => this.followers.delete(entry);
  }

  /** Whether any line of `unit` was ever kept. */
  has(unit: string): boolean {
    return this.rings.has(unit);
  }

  private ringFor(unit: string | null): LogRing {
    if (unit === null) return this.launcherRing;
    let ring = this.rings.get(unit);
    const lines = this.linesOf(unit);
    if (!ring) {
      ring = new LogRing(lines);
      this.rings.set(unit, ring);
    } else {
      ring.resize(lines);
    }
    return ring;
  }
}
