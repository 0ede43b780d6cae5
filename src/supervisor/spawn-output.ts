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
 * cut with CUT_MARKER). The bytes and offsets are reused for the next chunk: a
 * listener that keeps lines copies them during the call (LineStore).
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
      if (rest.length > 0 && !this.skipping) this.emit(boundedLine(rest));
    } else if (this.pending) {
      const rest = this.pending;
      this.pending = null;
      if (!this.skipping) this.emit(wellFormed(oneLine(rest)));
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
          if (count > 0) this.emit(wellFormed({ data: chunk, starts: offsets.starts, ends: offsets.ends, count }));
          count = 0;
          this.emit(boundedLine(chunk.toString('utf8', from, end)));
        } else {
          if (count === offsets.starts.length) offsets.ensure(count + 1);
          offsets.starts[count] = from;
          offsets.ends[count] = end;
          count++;
        }
        from = newline + 1;
      }
      if (count > 0) this.emit(wellFormed({ data: chunk, starts: offsets.starts, ends: offsets.ends, count }));
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
      this.emit(boundedLine(this.long.text));
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
      this.emit(boundedLine(text.endsWith('\r') ? text.slice(0, -1) : text));
      return;
    }
    const joined = Buffer.concat([this.pending as Buffer, last]);
    this.pending = null;
    const end = joined.length > 0 && joined[joined.length - 1] === 13 ? joined.length - 1 : joined.length;
    if (end > MAX_LINE_CHARS) this.emit(boundedLine(joined.toString('utf8', 0, end)));
    else this.emit(wellFormed(oneLine(joined.subarray(0, end))));
  }
}

/** Bytes a LineStore takes at its first line; it doubles as it needs to, up to its limit. */
const STORE_INITIAL_BYTES = 4 * 1024;

/** A LineStore's buffer until its first line: most services print little or nothing. */
const NO_BYTES = Buffer.alloc(0);

/**
 * The last `limit` lines of a stream (or of several, in order), as bytes in one
 * circular buffer with an offset and a length per line: appending a chunk's lines is
 * one copy, and a busy stream's history makes no garbage. Lines are numbered from 0
 * as they come; `oldest` is the first still kept. At most `maxBytes` of memory: past
 * it, the oldest lines go even before `limit` is reached.
 */
export class LineStore {
  private buf: Buffer;
  private offs: Int32Array;
  private lens: Int32Array;
  /** Number of the oldest line kept, and of the next line to come. */
  private head = 0;
  private tail = 0;
  /** Where the next bytes go. */
  private at = 0;
  /** Bytes of the lines kept. */
  private used = 0;
  /**
   * Number of the first line placed at the start of the buffer after the end was
   * reached (the lines from `head` up to it are at the end of the buffer, the rest at
   * its start, before `at`), or -1 while the lines kept are in order in the buffer.
   */
  private wrapLine = -1;

  constructor(
    private limit: number,
    private readonly maxBytes: number,
  ) {
    this.buf = NO_BYTES;
    this.offs = new Int32Array(Math.max(1, limit));
    this.lens = new Int32Array(Math.max(1, limit));
  }

  /** Number of the oldest line kept (== `next` when none is). */
  get oldest(): number {
    return this.head;
  }

  /** Number the next line appended gets. */
  get next(): number {
    return this.tail;
  }

  get size(): number {
    return this.tail - this.head;
  }

  /** Bytes of the lines kept (their text, not the memory held). */
  get bytes(): number {
    return this.used;
  }

  /**
   * Appends the last `n` (≤ limit) lines of `chunk`, dropping the oldest lines past
   * `limit` (and past `maxBytes`); returns the number of the first line appended
   * (fewer than `n` are appended only when their bytes alone exceed `maxBytes`).
   */
  pushChunk(chunk: LineChunk, n: number): number {
    const { data, starts, ends, count } = chunk;
    const take = Math.min(n, this.limit);
    if (take <= 0) return this.tail;
    let from = count - take;
    const hi = ends[count - 1] as number;
    while (from < count - 1 && hi - (starts[from] as number) > this.maxBytes) from++;
    const lo = starts[from] as number;
    if (hi - lo > this.maxBytes) return this.tail;
    // Lines of this chunk left out for bytes are newer than any kept: none of those stays.
    const limit = from > count - take ? 0 : this.limit - (count - from);
    while (this.size > limit) this.dropOldest();
    const off = this.place(hi - lo);
    this.buf.set(data.subarray(lo, hi), off);
    const first = this.tail;
    let slot = this.tail % this.limit;
    for (let i = from; i < count; i++) {
      const start = starts[i] as number;
      const len = (ends[i] as number) - start;
      this.offs[slot] = off + start - lo;
      this.lens[slot] = len;
      this.used += len;
      if (++slot === this.limit) slot = 0;
    }
    this.tail += count - from;
    this.at = off + hi - lo;
    return first;
  }

  /** Appends one line; returns its number. */
  push(text: string): number {
    const bytes = Buffer.from(text);
    return this.pushChunk({ data: bytes, starts: Int32Array.of(0), ends: Int32Array.of(bytes.length), count: 1 }, 1);
  }

  /** The text of line number `line` (oldest ≤ line < next). */
  text(line: number): string {
    const slot = line % this.limit;
    const off = this.offs[slot] as number;
    return this.buf.toString('utf8', off, off + (this.lens[slot] as number));
  }

  /** Drops the lines numbered below `line`. */
  dropTo(line: number): void {
    while (this.head < line && this.head < this.tail) this.dropOldest();
  }

  /** Changes `limit`, keeping the newest lines that still fit. */
  resize(limit: number): void {
    if (limit === this.limit) return;
    while (this.size > limit) this.dropOldest();
    const offs = new Int32Array(Math.max(1, limit));
    const lens = new Int32Array(Math.max(1, limit));
    for (let line = this.head; line < this.tail; line++) {
      offs[line % limit] = this.offs[line % this.limit] as number;
      lens[line % limit] = this.lens[line % this.limit] as number;
    }
    this.offs = offs;
    this.lens = lens;
    this.limit = limit;
  }

  private dropOldest(): void {
    this.used -= this.lens[this.head % this.limit] as number;
    this.head++;
    if (this.head === this.wrapLine) this.wrapLine = -1;
    if (this.head === this.tail) {
      this.at = 0;
      this.used = 0;
      this.wrapLine = -1;
    }
  }

  /** Makes room for `bytes` contiguous bytes (growing up to maxBytes, else dropping the oldest lines); returns where. */
  private place(bytes: number): number {
    for (;;) {
      const size = this.buf.length;
      if (this.head === this.tail) {
        if (bytes <= size) return 0;
      } else {
        const oldest = this.offs[this.head % this.limit] as number;
        if (this.wrapLine >= 0) {
          if (this.at + bytes <= oldest) return this.at;
        } else if (this.at + bytes <= size) {
          return this.at;
        } else if (bytes <= oldest) {
          // Back to the start of the buffer: the lines from here on come before the older ones.
          this.wrapLine = this.tail;
          return 0;
        }
      }
      if (size < this.maxBytes) this.grow(bytes);
      else this.dropOldest();
    }
  }

  /** A larger buffer (at least twice what the kept lines and `bytes` need, at most maxBytes), the lines moved to its start. */
  private grow(bytes: number): void {
    let size = Math.max(STORE_INITIAL_BYTES, this.buf.length * 2);
    while (size < 2 * (this.used + bytes) && size < this.maxBytes) size *= 2;
    const buf = Buffer.allocUnsafeSlow(Math.min(size, this.maxBytes));
    let at = 0;
    for (let line = this.head; line < this.tail; line++) {
      const slot = line % this.limit;
      const off = this.offs[slot] as number;
      const len = this.lens[slot] as number;
      buf.set(this.buf.subarray(off, off + len), at);
      this.offs[slot] = at;
      at += len;
    }
    this.buf = buf;
    this.at = at;
    this.wrapLine = -1;
  }
}

/** Bytes the recent lines of one child may hold. */
const RECENT_MAX_BYTES = 1024 * 1024;

/** Keeps the most recent `limit` lines, oldest first; text is decoded only when asked for. */
export class RecentLines {
  private readonly store: LineStore;
  constructor(limit = KEPT_LINES) {
    this.store = new LineStore(limit, RECENT_MAX_BYTES);
  }

  push(line: string): void {
    this.store.push(line);
  }

  /** Keeps the last lines of `chunk`. */
  pushChunk(chunk: LineChunk): void {
    this.store.pushChunk(chunk, chunk.count);
  }

  snapshot(): readonly string[] {
    const out: string[] = [];
    for (let line = this.store.oldest; line < this.store.next; line++) out.push(this.store.text(line));
    return out;
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
  /** The read ends still open (-1 for a stream that reached its end and was closed). */
  openFds(): OutputFds;
}

/**
 * Reads the read ends `fds` (owned from now on: closed at end of file; -1 for a stream
 * already at its end) and passes each line to `onLine`, tagged with `tag` (a sink gets
 * them a chunk at a time). Used for a child just spawned and, after the launcher re-execs
 * itself, for a child it adopted (same fds, same pid).
 */
export function relayOutput(fds: OutputFds, tag: { unit: string; instance: number; pid: number }, onLine?: OutputListener): OutputRelay {
  const recent = new RecentLines();
  const splitters: LineSplitter[] = [];
  const streamsOpen: Promise<void>[] = [];
  const open = { ...fds };
  for (const stream of ['stdout', 'stderr'] as const) {
    if (fds[stream] < 0) continue; // carried across an upgrade already at its end
    const perLine = typeof onLine === 'function' ? onLine : undefined;
    const sink = typeof onLine === 'object' ? onLine : undefined;
    const splitter = new LineSplitter((chunk) => {
      recent.pushChunk(chunk);
      if (sink) sink.lines({ unit: tag.unit, instance: tag.instance, pid: tag.pid, stream, data: chunk.data, starts: chunk.starts, ends: chunk.ends, count: chunk.count });
      // (A literal, not a spread of `tag`: with a spread per line this path was 5x slower.)
      else if (perLine) for (let i = 0; i < chunk.count; i++) perLine({ unit: tag.unit, instance: tag.instance, pid: tag.pid, stream, text: lineText(chunk, i) });
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
    // At its end nothing more will come: an upgrade need not carry it (the fd closes with 'close').
    readable.once('end', () => (open[stream] = -1)).once('close', () => (open[stream] = -1));
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
    openFds: () => ({ ...open }),
  };
}
