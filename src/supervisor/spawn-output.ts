// A child's output as lines: split per stream, bounded in length, the last few
// kept for failure reports, and a partial last line flushed at exit.
//
// The work is per chunk read, not per line: newlines are found in the bytes, a
// chunk's complete lines are passed on together as offsets into those bytes, and
// no string or object is made per line unless a listener asks for one.
import { isUtf8 } from 'node:buffer';
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';

/** Longest line passed on whole (64 Ki characters); a longer one is cut here with CUT_MARKER. */
export const MAX_LINE_CHARS = 64 * 1024;
/** How many lines lastLines() keeps. */
export const KEPT_LINES = 50;

/** Appended to a line that was cut at MAX_LINE_CHARS (the rest of that line is dropped). */
export const CUT_MARKER = ' … [line cut at 64 KiB]';

/**
 * Some lines of one stream, as bytes: line i is `data[starts[i], ends[i])`, without its
 * "\n" (nor the "\r" of a "\r\n"), valid UTF-8, at most MAX_LINE_CHARS characters (or
 * cut with CUT_MARKER). The offsets are scratch space reused for the next chunk: a
 * listener that keeps lines copies them (LineBlock) during the call.
 */
export interface LineChunk {
  readonly data: Buffer;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly count: number;
}

/** Line `i` of `chunk` as a string. */
export function lineText(chunk: LineChunk, i: number): string {
  return chunk.data.toString('utf8', chunk.starts[i] as number, chunk.ends[i] as number);
}

/** Offsets for up to `n` lines; grown (never shrunk) by the splitters that share them. */
class Offsets {
  starts = new Int32Array(256);
  ends = new Int32Array(256);
  /** True while a chunk using these is being passed on (a re-entrant write gets its own). */
  busy = false;

  ensure(n: number): void {
    if (n <= this.starts.length) return;
    let size = this.starts.length;
    while (size < n) size *= 2;
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    starts.set(this.starts);
    ends.set(this.ends);
    this.starts = starts;
    this.ends = ends;
  }
}
const shared = new Offsets();

/** A chunk of one line (a joined, cut, re-encoded or flushed line: the uncommon paths). */
function oneLine(data: Buffer): LineChunk {
  return { data, starts: Int32Array.of(0), ends: Int32Array.of(data.length), count: 1 };
}

/** A string line as a chunk, cut at MAX_LINE_CHARS with CUT_MARKER. */
function boundedLine(text: string): LineChunk {
  return oneLine(Buffer.from(text.length <= MAX_LINE_CHARS ? text : text.slice(0, MAX_LINE_CHARS) + CUT_MARKER));
}

/**
 * `chunk` with any invalid UTF-8 replaced by U+FFFD, as decoding each line would (a
 * newline is never inside a UTF-8 sequence, so the lines stay the same lines).
 */
function wellFormed(chunk: LineChunk): LineChunk {
  const { data, starts, ends, count } = chunk;
  if (isUtf8(data.subarray(starts[0] as number, ends[count - 1] as number))) return chunk;
  const texts: string[] = [];
  for (let i = 0; i < count; i++) texts.push(lineText(chunk, i));
  const out = Buffer.from(texts.join('\n'));
  const newStarts = new Int32Array(count);
  const newEnds = new Int32Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    newStarts[i] = at;
    at += Buffer.byteLength(texts[i] as string);
    newEnds[i] = at;
    at += 1;
  }
  return { data: out, starts: newStarts, ends: newEnds, count };
}

/**
 * Turns chunks of one stream into lines without their "\n" (a "\r\n" loses the "\r"),
 * passed on per chunk as a LineChunk. UTF-8 sequences split across chunks are decoded
 * whole (a partial line is held as bytes until its newline). A line longer than
 * MAX_LINE_CHARS is passed on once, cut there with CUT_MARKER, and the rest of it up
 * to its newline is dropped, so memory stays bounded whatever a child prints.
 */
export class LineSplitter {
  /** The start of a line without its newline yet (bytes, at most MAX_LINE_CHARS of them). */
  private pending: Buffer | null = null;
  /** A partial line past MAX_LINE_CHARS bytes, decoded (it may still be under the limit in characters). */
  private long: { text: string; decoder: StringDecoder } | null = null;
  /** True while dropping the remainder of a line already passed on cut. */
  private skipping = false;

  constructor(private readonly emit: (lines: LineChunk) => void) {}

  write(input: Buffer | string): void {
    const chunk = typeof input === 'string' ? Buffer.from(input) : input;
    let from = 0;
    if (this.skipping || this.long || this.pending) {
      const newline = chunk.indexOf(10);
      if (newline < 0) {
        this.hold(chunk);
        return;
      }
      this.endHeldLine(chunk.subarray(0, newline));
      from = newline + 1;
    }
    from = this.complete(chunk, from);
    if (from < chunk.length) this.hold(chunk.subarray(from));
  }

  /** Emits what is left without a final newline (call once, at end of stream or exit). */
  flush(): void {
    if (this.long) {
      const rest = this.long.text + this.long.decoder.end();
      this.long = null;
      if (rest.length > 0 && !this.skipping) this.send(boundedLine(rest));
    } else if (this.pending) {
      const rest = this.pending;
      this.pending = null;
      if (!this.skipping) this.send(wellFormed(oneLine(rest)));
    }
    this.skipping = false;
  }

  /** Passes on every complete line in chunk[from..]; returns where the unfinished rest starts. */
  private complete(chunk: Buffer, from: number): number {
    const offsets = shared.busy ? new Offsets() : shared;
    offsets.busy = true;
    try {
      let count = 0;
      let newline: number;
      while ((newline = chunk.indexOf(10, from)) >= 0) {
        const end = newline > from && chunk[newline - 1] === 13 ? newline - 1 : newline;
        if (end - from > MAX_LINE_CHARS) {
          // Rare: maybe over the limit in characters too. Lines before it go first, in order.
          if (count > 0) this.send(wellFormed({ data: chunk, starts: offsets.starts, ends: offsets.ends, count }));
          count = 0;
          this.send(boundedLine(chunk.toString('utf8', from, end)));
        } else {
          if (count === offsets.starts.length) offsets.ensure(count + 1);
          offsets.starts[count] = from;
          offsets.ends[count] = end;
          count++;
        }
        from = newline + 1;
      }
      if (count > 0) this.send(wellFormed({ data: chunk, starts: offsets.starts, ends: offsets.ends, count }));
      return from;
    } finally {
      offsets.busy = false;
    }
  }

  /** Keeps `part` (no newline in it) as the start or continuation of the current line. */
  private hold(part: Buffer): void {
    if (this.skipping || part.length === 0) return;
    if (this.long) {
      this.long.text += this.long.decoder.write(part);
    } else {
      // A copy: a short rest must not keep the whole chunk it came from alive.
      const joined = this.pending ? Buffer.concat([this.pending, part]) : Buffer.from(part);
      if (joined.length <= MAX_LINE_CHARS) {
        this.pending = joined;
        return;
      }
      this.pending = null;
      const decoder = new StringDecoder('utf8');
      this.long = { text: decoder.write(joined), decoder };
    }
    if (this.long.text.length > MAX_LINE_CHARS) {
      this.send(boundedLine(this.long.text));
      this.long = null;
      this.skipping = true;
    }
  }

  /** The held line ends with `last` (the bytes before its newline). */
  private endHeldLine(last: Buffer): void {
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    if (this.long) {
      const text = this.long.text + this.long.decoder.end(last);
      this.long = null;
      this.send(boundedLine(text.endsWith('\r') ? text.slice(0, -1) : text));
      return;
    }
    const joined = Buffer.concat([this.pending as Buffer, last]);
    this.pending = null;
    const end = joined.length > 0 && joined[joined.length - 1] === 13 ? joined.length - 1 : joined.length;
    if (end > MAX_LINE_CHARS) this.send(boundedLine(joined.toString('utf8', 0, end)));
    else this.send(wellFormed(oneLine(joined.subarray(0, end))));
  }

  private send(lines: LineChunk): void {
    this.emit(lines);
  }
}

/** `n` rounded up to a power of two (at least 64): a reused block fits chunks of a similar size. */
function capacityFor(n: number): number {
  let c = 64;
  while (c < n) c *= 2;
  return c;
}

/**
 * Copies of the last lines of a chunk, in memory of their own (the chunk's bytes are
 * reused for the next read). `first` moves forward as older lines are dropped. A
 * block that was dropped can be filled again (copyLast's `reuse`), so a busy
 * stream's history makes no garbage.
 */
export class LineBlock {
  /** Index of the oldest line still kept. */
  first = 0;
  private lines = 0;
  /** Offset of data[0] in the chunk the offsets came from. */
  private base = 0;

  private constructor(
    private readonly data: Buffer,
    private readonly starts: Int32Array,
    private readonly ends: Int32Array,
  ) {}

  /** The last `n` (≥ 1) lines of `chunk`, copied into `reuse` when it is large enough, else into a new block. */
  static copyLast(chunk: LineChunk, n: number, reuse?: LineBlock | null): LineBlock {
    const from = chunk.count - n;
    const lo = chunk.starts[from] as number;
    const hi = chunk.ends[chunk.count - 1] as number;
    const block =
      reuse && reuse.data.length >= hi - lo && reuse.starts.length >= n
        ? reuse
        : new LineBlock(Buffer.allocUnsafeSlow(capacityFor(hi - lo)), new Int32Array(capacityFor(n)), new Int32Array(capacityFor(n)));
    block.data.set(chunk.data.subarray(lo, hi));
    block.starts.set(chunk.starts.subarray(from, chunk.count));
    block.ends.set(chunk.ends.subarray(from, chunk.count));
    block.lines = n;
    block.base = lo;
    block.first = 0;
    return block;
  }

  /** Lines in the block, counting dropped ones (indexes first..count-1 are kept). */
  get count(): number {
    return this.lines;
  }

  /** Lines still kept. */
  get kept(): number {
    return this.lines - this.first;
  }

  /** Memory held: the bytes and the offsets. */
  get bytes(): number {
    return this.data.length + this.starts.length * 8;
  }

  text(i: number): string {
    return this.data.toString('utf8', (this.starts[i] as number) - this.base, (this.ends[i] as number) - this.base);
  }
}

/** Keeps the most recent `limit` lines, oldest first; text is decoded only when asked for. */
export class RecentLines {
  private readonly entries: (string | LineBlock)[] = [];
  private count = 0;
  /** A dropped block, filled again by the next chunk. */
  private spare: LineBlock | null = null;
  constructor(private readonly limit = KEPT_LINES) {}

  push(line: string): void {
    this.entries.push(line);
    this.count++;
    this.trim();
  }

  /** Keeps the last lines of `chunk` (at most `limit` of them are copied). */
  pushChunk(chunk: LineChunk): void {
    const n = Math.min(chunk.count, this.limit);
    if (n === 0) return;
    this.entries.push(LineBlock.copyLast(chunk, n, this.spare));
    this.spare = null;
    this.count += n;
    this.trim();
  }

  snapshot(): readonly string[] {
    const out: string[] = [];
    for (const e of this.entries) {
      if (typeof e === 'string') out.push(e);
      else for (let i = e.first; i < e.count; i++) out.push(e.text(i));
    }
    return out;
  }

  private trim(): void {
    while (this.count > this.limit) {
      const oldest = this.entries[0] as string | LineBlock;
      const drop = typeof oldest === 'string' ? 1 : Math.min(oldest.kept, this.count - this.limit);
      if (typeof oldest === 'string' || drop === oldest.kept) {
        this.entries.shift();
        if (typeof oldest !== 'string' && (!this.spare || oldest.bytes > this.spare.bytes)) this.spare = oldest;
      } else oldest.first += drop;
      this.count -= drop;
    }
  }
}

/** One line a child printed, tagged with where it came from. */
export interface OutputLine {
  readonly unit: string;
  readonly instance: number;
  readonly pid: number;
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/** Lines a child printed on one stream, tagged with where they came from (see LineChunk). */
export interface OutputLines extends LineChunk {
  readonly unit: string;
  readonly instance: number;
  readonly pid: number;
  readonly stream: 'stdout' | 'stderr';
}

/** Takes a child's lines a chunk at a time (the launcher's log). */
export interface OutputSink {
  lines(batch: OutputLines): void;
}

/** Who gets a child's lines: a function called once per line (with its text), or a sink called per chunk. */
export type OutputListener = ((line: OutputLine) => void) | OutputSink;

/** The read ends of a child's output pipes, as the launcher holds them. */
export interface OutputFds {
  readonly stdout: number;
  readonly stderr: number;
}

/**
 * What every child's pipes are read into, one read at a time (a pipe holds 64 KiB by
 * default). Its bytes are valid only until the next read: everything kept is copied.
 */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * After the process exits, how long to wait for its stdout/stderr to reach end of file.
 * A grandchild that inherited the pipes may hold them open for ever; `exited` must not wait.
 */
const OUTPUT_DRAIN_MS = 250;

/** A child's output being read: its recent lines, and when both streams are done. */
export interface OutputRelay {
  readonly recent: RecentLines;
  /**
   * Resolves once both streams reached end of file, or OUTPUT_DRAIN_MS after it is
   * called (a grandchild may hold the pipes open for ever), with every partial last
   * line flushed. Call it when the process has exited.
   */
  settled(): Promise<void>;
}

/**
 * Reads the read ends `fds` (owned from now on: closed at end of file) and passes each
 * line to `onLine`, tagged with `tag` (a sink gets them a chunk at a time). Used for a
 * child just spawned and, after the launcher re-execs itself, for a child it adopted
 * (same fds, same pid).
 */
export function relayOutput(fds: OutputFds, tag: { unit: string; instance: number; pid: number }, onLine?: OutputListener): OutputRelay {
  const recent = new RecentLines();
  const splitters: LineSplitter[] = [];
  const streamsOpen: Promise<void>[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    const perLine = typeof onLine === 'function' ? onLine : undefined;
    const sink = typeof onLine === 'object' ? onLine : undefined;
    const splitter = new LineSplitter((chunk) => {
      recent.pushChunk(chunk);
      if (sink) sink.lines({ unit: tag.unit, instance: tag.instance, pid: tag.pid, stream, data: chunk.data, starts: chunk.starts, ends: chunk.ends, count: chunk.count });
      else if (perLine) for (let i = 0; i < chunk.count; i++) perLine({ ...tag, stream, text: lineText(chunk, i) });
    });
    splitters.push(splitter);
    // Read into one shared buffer (no new Buffer per read): the splitter copies what it keeps.
    // (`onread` is a constructor option since Node 15; @types/node 20 lists it for connect() only.)
    const options: net.SocketConstructorOpts & net.ConnectOpts = {
      fd: fds[stream],
      readable: true,
      writable: false,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number) => {
          splitter.write(READ_BUFFER.subarray(0, n));
          return true; // keep reading
        },
      },
    };
    const readable = new net.Socket(options);
    streamsOpen.push(new Promise((resolve) => readable.once('close', () => resolve()).once('end', () => resolve())));
    readable.on('error', () => {}); // an EIO on a pipe must not crash the launcher; 'close' follows
  }
  return {
    recent,
    settled() {
      const drained = Promise.all(streamsOpen).then(() => undefined);
      const grace = new Promise<void>((r) => setTimeout(r, OUTPUT_DRAIN_MS).unref());
      return Promise.race([drained, grace]).then(() => splitters.forEach((s) => s.flush()));
    },
  };
}
