// A child's output as lines: split per stream, bounded in length, the last few
// kept for failure reports, and a partial last line flushed at exit.
import net from 'node:net';
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

/** One line a child printed, tagged with where it came from. */
export interface OutputLine {
  readonly unit: string;
  readonly instance: number;
  readonly pid: number;
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/** The read ends of a child's output pipes, as the launcher holds them. */
export interface OutputFds {
  readonly stdout: number;
  readonly stderr: number;
}

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
 * Reads the read ends `fds` (owned from now on: closed at end of file; -1 for none) and passes each
 * line to `onLine`, tagged with `tag`. Used for a child just spawned and, after the
 * launcher re-execs itself, for a child it adopted (same fds, same pid).
 */
export function relayOutput(fds: OutputFds, tag: { unit: string; instance: number; pid: number }, onLine?: (line: OutputLine) => void): OutputRelay {
  const recent = new RecentLines();
  const splitters: LineSplitter[] = [];
  const streamsOpen: Promise<void>[] = [];
  const open = { ...fds };
  for (const stream of ['stdout', 'stderr'] as const) {
    if (fds[stream] < 0) continue; // carried across an upgrade already at its end
    const readable = new net.Socket({ fd: fds[stream], readable: true, writable: false });
    readable.once('close', () => (open[stream] = -1));
    const splitter = new LineSplitter((text) => {
      recent.push(text);
      onLine?.({ ...tag, stream, text });
    });
    splitters.push(splitter);
    readable.on('data', (chunk: Buffer | string) => splitter.write(chunk));
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
