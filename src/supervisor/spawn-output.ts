// A child's output as lines: split per stream, bounded in length, the last few
// kept for failure reports, and a partial last line flushed at exit.
import { StringDecoder } from 'node:string_decoder';

/** Longest line passed on whole; a longer one is passed on in pieces of this size. */
export const MAX_LINE_CHARS = 64 * 1024;
/** How many lines lastLines() keeps. */
export const KEPT_LINES = 50;

/** Keeps the most recent `limit` lines, oldest first. */
export class RecentLines {
  private readonly lines: string[] = [];
  constructor(private readonly limit = KEPT_LINES) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.limit) this.lines.splice(0, this.lines.length - this.limit);
  }

  snapshot(): readonly string[] {
    return [...this.lines];
  }
}

/**
 * Turns chunks of one stream into lines without their "\n" (a "\r\n" loses the "\r").
 * UTF-8 sequences split across chunks are decoded whole. A line longer than
 * MAX_LINE_CHARS is emitted in pieces, so memory stays bounded whatever a child prints.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly emit: (line: string) => void) {}

  write(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, newline);
      this.pending = this.pending.slice(newline + 1);
      this.emitBounded(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    while (this.pending.length >= MAX_LINE_CHARS) {
      this.emit(this.pending.slice(0, MAX_LINE_CHARS));
      this.pending = this.pending.slice(MAX_LINE_CHARS);
    }
  }

  /** Emits what is left without a final newline (call once, at end of stream or exit). */
  flush(): void {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (rest.length > 0) this.emitBounded(rest);
  }

  private emitBounded(line: string): void {
    if (line.length <= MAX_LINE_CHARS) return this.emit(line);
    for (let start = 0; start < line.length; start += MAX_LINE_CHARS) this.emit(line.slice(start, start + MAX_LINE_CHARS));
  }
}
