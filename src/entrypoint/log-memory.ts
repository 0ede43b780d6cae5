// The launcher's in-memory log: per unit, the last `log_lines` lines (and at most
// UNIT_LOG_BYTES of text), plus one ring for launcher events that name no unit.
// `launcher logs` reads the tail and follows new lines from here.
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

/** A ring of records bounded in count and in bytes; oldest dropped first. */
export class LogRing {
  private slots: (LogRecord | undefined)[];
  private head = 0;
  private count = 0;
  private bytes = 0;

  constructor(private capacity: number, private readonly byteCap = UNIT_LOG_BYTES) {
    this.slots = new Array<LogRecord | undefined>(Math.max(1, capacity));
  }

  /** Changes the line limit, keeping the newest lines that still fit. */
  resize(capacity: number): void {
    if (capacity === this.capacity) return;
    const kept = this.last(capacity);
    this.capacity = capacity;
    this.slots = new Array<LogRecord | undefined>(Math.max(1, capacity));
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
    kept.forEach((r) => this.push(r));
  }

  push(record: LogRecord): void {
    if (this.capacity === 0) return;
    if (this.count === this.capacity) this.dropOldest();
    const tail = (this.head + this.count) % this.capacity;
    this.slots[tail] = record;
    this.count++;
    this.bytes += sizeOf(record);
    while (this.bytes > this.byteCap && this.count > 1) this.dropOldest();
  }

  /** The newest `n` records, oldest first. */
  last(n: number): LogRecord[] {
    const take = Math.min(n, this.count);
    const out: LogRecord[] = [];
    for (let i = this.count - take; i < this.count; i++) out.push(this.slots[(this.head + i) % this.capacity] as LogRecord);
    return out;
  }

  get size(): number {
    return this.count;
  }

  private dropOldest(): void {
    const oldest = this.slots[this.head];
    if (oldest) this.bytes -= sizeOf(oldest);
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
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
