// A child's output cut into lines a chunk at a time (LineSplitter), and the last
// lines kept as bytes (LineStore, RecentLines): chunk boundaries anywhere, UTF-8
// split across chunks, CRLF, the 64 KiB cut, invalid UTF-8, limits in lines and bytes.
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CUT_MARKER, LineSplitter, LineStore, MAX_LINE_CHARS, RecentLines, lineText } from '../../src/supervisor/spawn-output.js';
import { chunkOf } from '../helpers/line-chunks.js';

/** Feeds `pieces` to a LineSplitter (then flushes); returns the lines and the chunks' sizes. */
function split(pieces: (Buffer | string)[], flush = true): { lines: string[]; chunks: number[]; wellFormed: boolean } {
  const lines: string[] = [];
  const chunks: number[] = [];
  let wellFormed = true;
  const splitter = new LineSplitter((chunk) => {
    chunks.push(chunk.count);
    const region = chunk.data.subarray(chunk.starts[0], chunk.ends[chunk.count - 1]);
    wellFormed &&= isUtf8(region);
    for (let i = 0; i < chunk.count; i++) lines.push(lineText(chunk, i));
  });
  for (const p of pieces) splitter.write(typeof p === 'string' ? Buffer.from(p) : p);
  if (flush) splitter.flush();
  return { lines, chunks, wellFormed };
}

/** `buf` cut into pieces at `cuts` (sorted offsets). */
function cutAt(buf: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const at of [...cuts, buf.length]) {
    out.push(buf.subarray(from, at));
    from = at;
  }
  return out;
}


describe('LineSplitter', () => {
  it('passes a chunk\'s complete lines on together and holds a partial line until its newline', () => {
    const { lines, chunks } = split(['a\nb\nc', 'd\ne\n', 'f'], false);
    expect(lines).toEqual(['a', 'b', 'cd', 'e']);
    expect(chunks).toEqual([2, 1, 1]); // "cd" is passed on alone, then "e"
  });

  it('decodes a UTF-8 sequence split across chunks whole', () => {
    const bytes = Buffer.from('héllo wörld €\n✓ done\n');
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(split(cutAt(bytes, [cut])).lines).toEqual(['héllo wörld €', '✓ done']);
    }
    expect(split(cutAt(bytes, [2, 3, 13, 14, 15])).lines).toEqual(['héllo wörld €', '✓ done']);
  });

  it('any cutting of the same bytes gives the same lines as decoding them whole', () => {
    const text = fc.array(fc.oneof(fc.constantFrom('\n', '\r\n', '\r', 'é', '€', '𝄞', 'x'), fc.string({ maxLength: 5 })), { maxLength: 60 }).map((a) => a.join(''));
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 8 }), (s, rawCuts) => {
        const bytes = Buffer.from(s);
        const cuts = [...new Set(rawCuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b);
        const expected = s.split('\n').map((l, i, all) => (i < all.length - 1 && l.endsWith('\r') ? l.slice(0, -1) : l));
        if (expected.at(-1) === '') expected.pop();
        const got = split(cutAt(bytes, cuts));
        expect(got.lines).toEqual(expected);
        expect(got.wellFormed).toBe(true);
      }),
    );
  });

  it('takes one "\\r" off a "\\r\\n", also when the "\\r" ends one chunk and the "\\n" starts the next', () => {
    expect(split(['a\r\nb\r\n']).lines).toEqual(['a', 'b']);
    expect(split(['a\r', '\nb\n']).lines).toEqual(['a', 'b']);
    expect(split(['a\r\r\n', 'lone\r in the middle\n']).lines).toEqual(['a\r', 'lone\r in the middle']);
    expect(split(['partial\r']).lines).toEqual(['partial\r']); // at exit, as before: no newline, nothing taken off
  });

  it('replaces invalid UTF-8 as decoding does, and passes on well-formed bytes', () => {
    const got = split([Buffer.from([0x61, 0xff, 0x62, 0x0a, 0x63, 0xe2, 0x82, 0x0a, 0x64, 0x0a])]);
    expect(got.lines).toEqual(['a\ufffdb', 'c\ufffd', 'd']);
    expect(got.wellFormed).toBe(true);
    // An incomplete sequence at exit.
    expect(split([Buffer.from([0x65, 0xe2, 0x82])]).lines).toEqual(['e\ufffd']);
  });

  it('cuts a line over 64 Ki characters once, with the marker, and drops the rest of it', () => {
    const long = 'x'.repeat(150_000);
    const expected = ['x'.repeat(MAX_LINE_CHARS) + CUT_MARKER, '0', '1'];
    expect(split([long + '\n0\n1\n']).lines).toEqual(expected); // within one chunk
    const bytes = Buffer.from(long + '\n0\n1\n');
    expect(split(cutAt(bytes, [10, 20_000, 65_536, 65_537, 100_000, 149_999, 150_000])).lines).toEqual(expected); // across many
    expect(split(cutAt(bytes, [150_001])).lines).toEqual(expected); // the newline ends a chunk
    expect(split(['y'.repeat(MAX_LINE_CHARS) + '\n']).lines).toEqual(['y'.repeat(MAX_LINE_CHARS)]); // exactly 64 Ki: whole
    expect(split(['z'.repeat(100_000)]).lines).toEqual(['z'.repeat(MAX_LINE_CHARS) + CUT_MARKER]); // no newline at all
  });

  it('counts the 64 Ki limit in characters: multi-byte lines over 64 KiB of bytes but under 64 Ki characters pass whole', () => {
    const wide = 'é'.repeat(40_000); // 80 000 bytes
    const bytes = Buffer.from(wide + '\nnext\n');
    expect(split(cutAt(bytes, [30_001, 70_000])).lines).toEqual([wide, 'next']);
    expect(split([bytes]).lines).toEqual([wide, 'next']);
    const wider = '€'.repeat(70_000); // 210 000 bytes, 70 000 characters
    expect(split(cutAt(Buffer.from(wider + '\nok\n'), [100_000, 200_000])).lines).toEqual(['€'.repeat(MAX_LINE_CHARS) + CUT_MARKER, 'ok']);
  });

  it('handles many lines in one chunk (the shared offsets grow)', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
    const got = split([many.join('\n') + '\n']);
    expect(got.lines).toEqual(many);
    expect(got.chunks).toEqual([20_000]);
  });
});

describe('LineStore', () => {
  it('keeps exactly the last N lines when one chunk has more than N', () => {
    const store = new LineStore(5, 1 << 20);
    const first = store.pushChunk(chunkOf(Array.from({ length: 12 }, (_, i) => `l${i}`)), 12);
    expect(store.size).toBe(5);
    expect(first).toBe(0);
    expect(store.oldest).toBe(0);
    expect(Array.from({ length: store.size }, (_, k) => store.text(store.oldest + k))).toEqual(['l7', 'l8', 'l9', 'l10', 'l11']);
  });

  it('matches a plain array of the last N lines over any sequence of chunks (wrapping round, growing)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(fc.array(fc.string({ maxLength: 30 }), { minLength: 1, maxLength: 50 }), { maxLength: 40 }), (limit, chunks) => {
        const store = new LineStore(limit, 1 << 20);
        const all: string[] = [];
        for (const lines of chunks) {
          store.pushChunk(chunkOf(lines), lines.length);
          all.push(...lines);
        }
        const kept = Array.from({ length: store.size }, (_, k) => store.text(store.oldest + k));
        expect(kept).toEqual(all.slice(-limit));
      }),
    );
  });

  it('holds at most its byte limit, dropping the oldest lines first', () => {
    const store = new LineStore(1000, 4096);
    const line = (i: number): string => `${String(i).padStart(4, '0')} ${'y'.repeat(95)}`; // 100 bytes
    for (let c = 0; c < 50; c++) store.pushChunk(chunkOf(Array.from({ length: 7 }, (_, k) => line(c * 7 + k))), 7);
    expect(store.bytes).toBeLessThanOrEqual(4096);
    expect(store.size).toBeGreaterThan(10);
    expect(store.text(store.next - 1)).toBe(line(349));
    const kept = Array.from({ length: store.size }, (_, k) => store.text(store.oldest + k));
    expect(kept).toEqual(Array.from({ length: store.size }, (_, k) => line(350 - store.size + k)));
  });

  it('resize keeps the newest lines', () => {
    const store = new LineStore(10, 1 << 20);
    store.pushChunk(chunkOf(['a', 'b', 'c', 'd']), 4);
    store.resize(2);
    expect([store.text(store.oldest), store.text(store.oldest + 1)]).toEqual(['c', 'd']);
    store.resize(5);
    store.pushChunk(chunkOf(['e', 'f', 'g', 'h']), 4);
    expect(Array.from({ length: store.size }, (_, k) => store.text(store.oldest + k))).toEqual(['d', 'e', 'f', 'g', 'h']);
  });
});

describe('RecentLines', () => {
  it('keeps the last 50 lines of chunks and single lines, in order', () => {
    const recent = new RecentLines();
    recent.pushChunk(chunkOf(Array.from({ length: 120 }, (_, i) => `a${i}`)));
    recent.push('spawn failed');
    recent.pushChunk(chunkOf(['b0', 'b1']));
    const kept = recent.snapshot();
    expect(kept).toHaveLength(50);
    expect(kept.slice(-4)).toEqual(['a119', 'spawn failed', 'b0', 'b1']);
    expect(kept[0]).toBe('a73');
  });
});
