// Splits the control protocol's byte stream into frames (one JSON value per line) with a
// hard cap on length, so a peer that never sends "\n" cannot make either side buffer
// without bound. Not the output splitter (supervisor/spawn-output.ts LineSplitter): a
// service's over-long line is cut and its output goes on, per chunk and without decoding,
// while an over-long frame ends the conversation, and blank frames are no frames at all.

/** What `push` found in a chunk: the complete lines, and whether the cap was broken. */
export interface SplitResult {
  lines: string[];
  /** Bytes of the offending line when it exceeded the cap; no more lines follow. */
  overflow?: number;
}

/**
 * Accumulates chunks and returns complete lines, decoded as UTF-8, without the
 * "\n" and without a trailing "\r". Blank lines are dropped (a person typing into
 * `nc -U` presses Enter twice). A line longer than `maxBytes` — complete or still
 * pending — is reported once as `overflow` and the splitter stops: the caller
 * closes the connection. Splitting on bytes before decoding keeps a multi-byte
 * character cut across chunks intact.
 */
export class FrameSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private broken = false;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): SplitResult {
    const lines: string[] = [];
    if (this.broken) return { lines };
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) break;
      const lineBytes = this.pendingBytes + (newline - start);
      if (lineBytes > this.maxBytes) return this.overflow(lines, lineBytes);
      const bytes = Buffer.concat([...this.pending, chunk.subarray(start, newline)]);
      this.pending = [];
      this.pendingBytes = 0;
      const text = bytes.toString('utf8').replace(/\r$/, '');
      if (text.trim() !== '') lines.push(text);
      start = newline + 1;
    }
    const rest = chunk.length - start;
    if (rest > 0) {
      if (this.pendingBytes + rest > this.maxBytes) return this.overflow(lines, this.pendingBytes + rest);
      // Copy: the stream may reuse the chunk's memory once this callback returns.
      this.pending.push(Buffer.from(chunk.subarray(start)));
      this.pendingBytes += rest;
    }
    return { lines };
  }

  private overflow(lines: string[], bytes: number): SplitResult {
    this.broken = true;
    this.pending = [];
    this.pendingBytes = 0;
    return { lines, overflow: bytes };
  }
}
