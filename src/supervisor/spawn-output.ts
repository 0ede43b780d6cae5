// A child's output as lines: split per stream, bounded in length, the last few
// kept for failure reports, and a partial last line flushed at exit.
import { StringDecoder } from 'node:string_decoder';

/** Longest line passed on whole (64 Ki characters); a longer one is cut here with CUT_MARKER. */
export const MAX_LINE_CHARS = 64 * 1024;
/** How many lines lastLines() keeps. */
export const KEPT_LINES = 50;

/** Keeps the most recent `limit` lines, oldest first (a ring: constant cost per line). */
export class RecentLines {
  private readonly lines: string[] = [];
  private next = 0;
  constructor(private readonly limit = KEPT_LINES) {}

  push(line: string): void {
    if (this.lines.length < this.limit) this.lines.push(line);
    else this.lines[this.next] = line;
    this.next = (this.next + 1) % this.limit;
  }

  snapshot(): readonly string[] {
    return this.lines.length < this.limit ? [...this.lines] : [...this.lines.slice(this.next), ...this.lines.slice(0, this.next)];
  }
}

/** Appended to a line that was cut at MAX_LINE_CHARS (the rest of that line is dropped). */
export const CUT_MARKER = ' … [line cut at 64 KiB]';

/**
 * Turns chunks of one stream into lines without their "\n" (a "\r\n" loses the "\r").
 * UTF-8 sequences split across chunks are decoded whole. A line longer than
 * MAX_LINE_CHARS is passed on once, cut there with CUT_MARKER, and the rest of it up
 * to its newline is dropped, so memory stays bounded whatever a child prints.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  /** True while dropping the remainder of a line already passed on cut. */
  private skipping = false;

  constructor(private readonly emit: (line: string) => void) {}

  write(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let from = 0;
    let newline: number;
    while ((newline = this.pending.indexOf('\n', from)) >= 0) {
      const line = this.pending.slice(from, newline);
      from = newline + 1;
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      this.emitBounded(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    this.pending = from === 0 ? this.pending : this.pending.slice(from);
    if (this.pending.length > MAX_LINE_CHARS) {
      if (!this.skipping) this.emit(this.pending.slice(0, MAX_LINE_CHARS) + CUT_MARKER);
      this.skipping = true;
      this.pending = '';
    }
  }

  /** Emits what is left without a final newline (call once, at end of stream or exit). */
  flush(): void {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (rest.length > 0 && !this.skipping) this.emitBounded(rest);
    this.skipping = false;
  }

  private emitBounded(line: string): void {
    this.emit(line.length <= MAX_LINE_CHARS ? line : line.slice(0, MAX_LINE_CHARS) + CUT_MARKER);
  }
}
