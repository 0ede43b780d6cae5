// A chunk of a child's lines rendered for a text sink in one go: the same prefix
// (time, unit[pid], colour or priority) before each line, a newline after it, all
// in one Buffer. Bytes are moved four at a time through DataViews: per line that is
// cheaper than two native copies (a call each, and a subarray object per line).
import type { LineChunk } from '../supervisor/spawn-output.js';

const EMPTY = Buffer.alloc(0);

/** Bytes frameRange may write past the end of what it frames (whole words are written). */
export const FRAME_SLACK = 4;

/** What frameLines made: `buf` holds lines `from` to `next - 1`. */
export interface Framed {
  readonly buf: Buffer;
  readonly next: number;
}

/** `prefix` as little-endian 32-bit words (zero-padded to a multiple of 4 bytes). */
function wordsOf(prefix: Uint8Array): number[] {
  const padded = new Uint8Array((prefix.length + 3) & ~3);
  padded.set(prefix);
  const view = new DataView(padded.buffer);
  const words: number[] = [];
  for (let k = 0; k < padded.length; k += 4) words.push(view.getUint32(k, true));
  return words;
}

/**
 * How many of lines `from`, `from + 1`, … of `lines` fit framed (prefix of
 * `prefixBytes`, newline) in `budget` bytes, stopping before a line that is itself
 * longer than `maxLine` bytes: `next` is the first line left out, `bytes` the total.
 */
export function fitLines(prefixBytes: number, lines: LineChunk, from: number, budget: number, maxLine = Infinity): { next: number; bytes: number } {
  const { starts, ends, count } = lines;
  let bytes = 0;
  let next = from;
  for (; next < count; next++) {
    const size = prefixBytes + (ends[next] as number) - (starts[next] as number) + 1;
    if (size > maxLine || bytes + size > budget) break;
    bytes += size;
  }
  return { next, bytes };
}

/**
 * Writes `prefix` + line + "\n" for lines `from` to `to - 1` of `lines` into `out` at
 * `at`; returns where they end. `out` must have FRAME_SLACK bytes past that end.
 */
export function frameRange(out: Buffer, at: number, prefix: Uint8Array, lines: LineChunk, from: number, to: number): number {
  const { data, starts, ends } = lines;
  const dst = new DataView(out.buffer, out.byteOffset, out.length);
  const src = new DataView(data.buffer, data.byteOffset, data.length);
  const words = wordsOf(prefix);
  const nw = words.length;
  const pl = prefix.length;
  const srcLength = data.length;
  for (let i = from; i < to; i++) {
    for (let k = 0; k < nw; k++) dst.setUint32(at + 4 * k, words[k] as number, true);
    at += pl;
    const start = starts[i] as number;
    const end = ends[i] as number;
    if (end < srcLength && data[end] === 10) {
      // The newline is right there (no "\r" was taken off): copied with the line.
      const stop = end + 1;
      if (stop + 3 <= srcLength) {
        // Whole words, reading at most 3 bytes past the newline (still inside `data`).
        for (let k = start; k < stop; k += 4) dst.setUint32(at + k - start, src.getUint32(k, true), true);
        at += stop - start;
        continue;
      }
      at = copyBytes(src, start, stop, dst, at);
    } else {
      at = copyBytes(src, start, end, dst, at);
      dst.setUint8(at++, 10);
    }
  }
  return at;
}

/**
 * `prefix` + line + "\n" for lines `from`, `from + 1`, … of `lines` in a new Buffer,
 * as many as fitLines allows.
 */
export function frameLines(prefix: Uint8Array, lines: LineChunk, from: number, budget: number, maxLine = Infinity): Framed {
  const { next, bytes } = fitLines(prefix.length, lines, from, budget, maxLine);
  if (next === from) return { buf: EMPTY, next };
  const out = Buffer.allocUnsafeSlow(bytes + FRAME_SLACK);
  frameRange(out, 0, prefix, lines, from, next);
  return { buf: out.subarray(0, bytes), next };
}

/** src[start, end) to `to` at `at` (words, then the last bytes one by one); returns the new `at`. */
function copyBytes(src: DataView, start: number, end: number, to: DataView, at: number): number {
  let k = start;
  for (; k + 4 <= end; k += 4, at += 4) to.setUint32(at, src.getUint32(k, true), true);
  for (; k < end; k++) to.setUint8(at++, src.getUint8(k));
  return at;
}

/** The byte length of line `i` of `lines` framed with a prefix of `prefixBytes` bytes. */
export function framedSize(prefixBytes: number, lines: LineChunk, i: number): number {
  return prefixBytes + (lines.ends[i] as number) - (lines.starts[i] as number) + 1;
}

/** `buf` cut to at most `max` bytes without splitting a UTF-8 sequence. */
export function cutUtf8(buf: Buffer, max: number): Buffer {
  if (buf.length <= max) return buf;
  let end = max;
  while (end > 0 && ((buf[end] as number) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end);
}
