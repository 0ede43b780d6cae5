// The launcher's in-memory log: per unit, the last `log_lines` lines (and at most
// UNIT_LOG_BYTES of text), plus one ring for launcher events that name no unit.
// `launcher logs` reads the tail and follows new lines from here.
import { LineStore, lineText, type LineChunk } from '../supervisor/spawn-output.js';
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

/** Lines of one chunk kept in a ring's LineStore (records are made when they are read). */
class ChildLines {
  /** Number (in the store) of the oldest of these lines still kept. */
  first: number;

  constructor(
    /** Number (in the store) of the first of these lines. */
    private readonly line0: number,
    private readonly count: number,
    /** The seq of line `line0`. */
    private readonly seq0: number,
    private readonly meta: LinesMeta,
  ) {
    this.first = line0;
  }

  /** Numbers past the last of these lines. */
  get end(): number {
    return this.line0 + this.count;
  }

  get kept(): number {
    return this.end - this.first;
  }

  record(store: LineStore, line: number): LogRecord {
    const m = this.meta;
    return { seq: this.seq0 + line - this.line0, time: m.time, unit: m.unit, instance: m.instance, pid: m.pid, stream: m.stream, level: 'info', text: store.text(line), fields: undefined };
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
 * A ring of lines bounded in count and in bytes; oldest dropped first. A child's
 * lines are kept as bytes in one LineStore (a chunk is one entry and one copy);
 * launcher events as records.
 */
export class LogRing {
  private entries: Entry[] = [];
  /** Index of the oldest entry in `entries`. */
  private head = 0;
  /** Lines kept: records and child lines. */
  private lines = 0;
  /** Bytes of the records kept (child lines are counted by the store). */
  private recordBytes = 0;
  private store: LineStore | null = null;

  constructor(private capacity: number, private readonly byteCap = UNIT_LOG_BYTES) {}

  /** Changes the line limit, keeping the newest lines that still fit. */
  resize(capacity: number): void {
    if (capacity === this.capacity) return;
    this.trimTo(capacity);
    this.capacity = capacity;
    this.store?.resize(capacity);
  }

  push(record: LogRecord): void {
    if (this.capacity === 0) return;
    this.trimTo(this.capacity - 1);
    this.entries.push(record);
    this.lines++;
    this.recordBytes += sizeOf(record);
    this.trimBytes();
  }

  /** Keeps the last lines of a chunk (never more than the ring holds). */
  pushLines(lines: LineChunk, meta: LinesMeta): void {
    const n = Math.min(lines.count, this.capacity);
    if (n === 0) return;
    this.trimTo(this.capacity - n);
    this.store ??= new LineStore(this.capacity, this.byteCap);
    const line0 = this.store.pushChunk(lines, n);
    const added = this.store.next - line0;
    if (added === 0) return;
    this.entries.push(new ChildLines(line0, added, meta.seq + lines.count - added, meta));
    this.lines += added;
    // Lines of this chunk left out for bytes are newer than anything kept before it.
    if (added < n) while (this.entries.length - this.head > 1) this.dropOldest();
    this.syncStore();
    this.trimBytes();
  }

  /** The newest `n` records, oldest first. */
  last(n: number): LogRecord[] {
    const out: LogRecord[] = [];
    for (let e = this.entries.length - 1; e >= this.head && out.length < n; e--) {
      const entry = this.entries[e] as Entry;
      if (entry instanceof ChildLines) {
        for (let line = entry.end - 1; line >= entry.first && out.length < n; line--) out.push(entry.record(this.store as LineStore, line));
      } else out.push(entry);
    }
    return out.reverse();
  }

  get size(): number {
    return this.lines;
  }

  /** Drops the oldest lines until at most `max` are kept. */
  private trimTo(max: number): void {
    while (this.lines > max) {
      const oldest = this.entries[this.head] as Entry;
      if (oldest instanceof ChildLines && oldest.kept > this.lines - max) {
        oldest.first += this.lines - max;
        this.store?.dropTo(oldest.first);
        this.lines = max;
      } else this.dropOldest();
    }
  }

  /** Drops whole entries, oldest first, while the bytes kept exceed the cap (the newest stays). */
  private trimBytes(): void {
    while (this.recordBytes + (this.store?.bytes ?? 0) > this.byteCap && this.entries.length - this.head > 1) this.dropOldest();
  }

  /** Forgets child lines the store dropped to stay under its byte limit (and any older records). */
  private syncStore(): void {
    const oldest = (this.store as LineStore).oldest;
    for (;;) {
      let e = this.head;
      while (e < this.entries.length && !(this.entries[e] instanceof ChildLines)) e++;
      const entry = this.entries[e];
      if (!(entry instanceof ChildLines) || entry.first >= oldest) return;
      // Records before it are older than the lines the store dropped: they go too.
      while (this.entries[this.head] !== entry) this.dropOldest();
      if (entry.end > oldest) {
        this.lines -= oldest - entry.first;
        entry.first = oldest;
        return;
      }
      this.dropOldest();
    }
  }

  private dropOldest(): void {
    const oldest = this.entries[this.head] as Entry;
    if (oldest instanceof ChildLines) {
      this.lines -= oldest.kept;
      this.store?.dropTo(oldest.end);
    } else {
      this.lines--;
      this.recordBytes -= sizeOf(oldest);
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
