// The log a chunk at a time: the ring keeping exactly its last N lines when one
// chunk has more, launcher events counted with child lines, the byte cap,
// followers; framing a chunk for a text sink; log files fed whole chunks
// (rotation bounds, the backlog bound with its marker); Logger.lines end to end.
import { mkdirSync, openSync, closeSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/entrypoint/log.js';
import { FILE_PENDING_MAX_BYTES, LogDir } from '../../src/entrypoint/log-files.js';
import { frameLines } from '../../src/entrypoint/log-frame.js';
import { LogRing, MemoryLog, UNIT_LOG_BYTES, type LinesMeta } from '../../src/entrypoint/log-memory.js';
import type { LogRecord } from '../../src/entrypoint/log-record.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { chunkOf } from '../helpers/line-chunks.js';

const tmps: { cleanup: () => void }[] = [];
afterEach(() => tmps.splice(0).forEach((t) => t.cleanup()));
function tmpDir(): string {
  const tmp = makeTmpDir('launcher-logchunks-');
  tmps.push(tmp);
  return tmp.dir;
}


let seq = 0;
const meta = (unit: string, count: number): LinesMeta => {
  const m = { unit, instance: 0, pid: 42, stream: 'stdout' as const, seq: seq + 1, time: Date.now() };
  seq += count;
  return m;
};
const event = (unit: string | null, text: string): LogRecord => ({ seq: ++seq, time: Date.now(), unit, stream: 'launcher', level: 'info', text });
const numbered = (from: number, n: number, tag = 'l'): string[] => Array.from({ length: n }, (_, i) => `${tag}${from + i}`);

describe('LogRing with chunks', () => {
  it('keeps exactly the last N lines when one chunk has more than N, with their seq', () => {
    const ring = new LogRing(1000);
    const m = meta('web', 2500);
    ring.pushLines(chunkOf(numbered(0, 2500)), m);
    expect(ring.size).toBe(1000);
    const kept = ring.last(5000);
    expect(kept.map((r) => r.text)).toEqual(numbered(1500, 1000));
    expect(kept.map((r) => r.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => m.seq + 1500 + i));
    expect(kept[0]).toMatchObject({ unit: 'web', pid: 42, instance: 0, stream: 'stdout', level: 'info', time: m.time });
  });

  it('counts launcher events with child lines, drops the oldest first, and resizes keeping the newest', () => {
    const ring = new LogRing(5);
    ring.push(event('web', 'starting'));
    ring.pushLines(chunkOf(['a', 'b', 'c']), meta('web', 3));
    ring.push(event('web', 'running'));
    expect(ring.last(10).map((r) => r.text)).toEqual(['starting', 'a', 'b', 'c', 'running']);
    ring.pushLines(chunkOf(['d', 'e']), meta('web', 2));
    expect(ring.last(10).map((r) => r.text)).toEqual(['b', 'c', 'running', 'd', 'e']);
    expect(ring.last(2).map((r) => r.text)).toEqual(['d', 'e']);
    ring.resize(3);
    expect(ring.last(10).map((r) => r.text)).toEqual(['running', 'd', 'e']);
    ring.resize(0);
    ring.pushLines(chunkOf(['f']), meta('web', 1));
    expect(ring.size).toBe(0);
  });

  it('matches a plain list of the last N lines over any mix of chunks and events', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.array(fc.oneof(fc.integer({ min: 1, max: 45 }), fc.constant(0)), { maxLength: 40 }), (limit, steps) => {
        const ring = new LogRing(limit);
        const all: string[] = [];
        let n = 0;
        for (const step of steps) {
          if (step === 0) {
            ring.push(event('web', `event ${n}`));
            all.push(`event ${n++}`);
          } else {
            const lines = numbered(n, step);
            n += step;
            ring.pushLines(chunkOf(lines), meta('web', step));
            all.push(...lines);
          }
        }
        expect(ring.size).toBe(Math.min(limit, all.length));
        expect(ring.last(limit).map((r) => r.text)).toEqual(all.slice(-limit));
      }),
    );
  });

  it('under a small byte cap keeps only newest lines (never an older one past a dropped newer one)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 300, max: 6000 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 150 })), { maxLength: 50 }), (limit, cap, steps) => {
        const ring = new LogRing(limit, cap);
        const all: string[] = [];
        let n = 0;
        for (const [count, width] of steps) {
          if (count === 0) {
            ring.push(event('web', `e${n}`));
            all.push(`e${n++}`);
          } else {
            const lines = Array.from({ length: count }, (_, i) => `l${n + i} ${'y'.repeat(width)}`);
            n += count;
            ring.pushLines(chunkOf(lines), meta('web', count));
            all.push(...lines);
          }
          const kept = ring.last(Number.MAX_SAFE_INTEGER).map((r) => r.text);
          expect(kept.length).toBe(ring.size);
          expect(kept.length).toBeGreaterThan(0);
          expect(kept.length).toBeLessThanOrEqual(limit);
          expect(kept).toEqual(all.slice(all.length - kept.length));
        }
      }),
    );
  });

  it('holds at most UNIT_LOG_BYTES of child lines whatever the line limit', () => {
    const ring = new LogRing(1_000_000);
    const line = 'x'.repeat(60_000);
    for (let i = 0; i < 200; i++) ring.pushLines(chunkOf([line]), meta('web', 1));
    expect(ring.size * line.length).toBeLessThanOrEqual(UNIT_LOG_BYTES);
    expect(ring.size).toBeGreaterThan(10);
    expect(ring.last(1)[0]?.text).toBe(line);
  });
});

describe('MemoryLog with chunks', () => {
  it('interleaves chunk lines and events by seq, and gives followers the lines of their units', () => {
    const memory = new MemoryLog();
    const got: string[] = [];
    const all: number[] = [];
    const stop = memory.follow(['a'], (r) => got.push(r.text));
    memory.follow([], (r) => all.push(r.seq));
    memory.addLines(chunkOf(['a1', 'a2']), meta('a', 2));
    memory.add(event(null, 'loaded'));
    memory.addLines(chunkOf(['b1']), meta('b', 1));
    memory.addLines(chunkOf(['a3']), meta('a', 1));
    stop();
    memory.addLines(chunkOf(['a4']), meta('a', 1));
    expect(got).toEqual(['a1', 'a2', 'a3']);
    expect(all).toEqual([...all].sort((x, y) => x - y));
    expect(all).toHaveLength(6);
    expect(memory.tail([], 10).map((r) => r.text)).toEqual(['a1', 'a2', 'loaded', 'b1', 'a3', 'a4']);
    expect(memory.tail(['a'], 2).map((r) => r.text)).toEqual(['a3', 'a4']);
  });
});

describe('frameLines', () => {
  it('is prefix + line + newline per line, whatever the lengths and separators', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 50 }), fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 30 }), fc.boolean(), (prefix, raw, crlf) => {
        const lines = raw.map((l) => l.replace(/[\r\n]/g, ' '));
        const chunk = chunkOf(lines, crlf ? '\r\n' : '\n');
        const { buf, next } = frameLines(Buffer.from(prefix), chunk, 0, Infinity);
        expect(next).toBe(lines.length);
        expect(buf.toString()).toBe(lines.map((l) => prefix + l + '\n').join(''));
      }),
    );
  });

  it('stops at the byte budget, and before a line longer than maxLine', () => {
    const chunk = chunkOf(['aaaa', 'bbbb', 'cccccccccc', 'dd']);
    expect(frameLines(Buffer.from('> '), chunk, 0, 14)).toMatchObject({ next: 2 }); // 7 bytes each
    expect(frameLines(Buffer.from('> '), chunk, 1, 1000, 10).next).toBe(2);
    expect(frameLines(Buffer.from('> '), chunk, 2, 1000, 10).next).toBe(2);
    expect(frameLines(Buffer.from('> '), chunk, 3, 1000, 10).buf.toString()).toBe('> dd\n');
  });
});

describe('log files fed chunks', () => {
  it('never lets a unit use more than (keep + 1) × maxBytes, and keeps every line in order while it fits', async () => {
    const dir = path.join(tmpDir(), 'logs');
    mkdirSync(dir);
    const errors: Error[] = [];
    const logs = new LogDir(dir, { maxBytes: 4096, keep: 200, marker: (n) => `skipped ${n}`, onError: (_f, e) => errors.push(e) });
    const prefix = Buffer.from('T web[1] ');
    let n = 0;
    for (let c = 0; c < 120; c++) {
      const size = (c * 7) % 60;
      logs.fileOf('web').writeLines(prefix, chunkOf(Array.from({ length: size }, (_, i) => `line ${n + i} ${'y'.repeat((n + i) % 150)}`), c % 2 ? '\r\n' : '\n'));
      n += size;
      if (c % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    await logs.close();
    expect(errors).toEqual([]);
    const files = readdirSync(dir);
    for (const f of files) expect(statSync(path.join(dir, f)).size).toBeLessThanOrEqual(4096);
    // Oldest file first: web.log.<most> … web.log.1, web.log.
    const order = files.sort((a, b) => Number(b.split('.')[2] ?? 0) - Number(a.split('.')[2] ?? 0));
    const lines = order.flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean));
    expect(lines).toHaveLength(n);
    lines.forEach((l, i) => expect(l).toBe(`T web[1] line ${i} ${'y'.repeat(i % 150)}`));
  });

  it('rotates at exactly maxBytes when queued lines fill the room left to the byte', async () => {
    const dir = tmpDir();
    const logs = new LogDir(dir, { maxBytes: 1000, keep: 10, marker: (n) => `skipped ${n}`, onError: () => {} });
    const line = (i: number): string => `${String(i).padStart(3, '0')} ${'z'.repeat(95)}`; // 100 bytes with its newline
    for (let i = 0; i < 35; i++) logs.fileOf('web').write(line(i));
    await logs.close();
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['web.log', 'web.log.1', 'web.log.2', 'web.log.3']);
    for (const f of files) expect(statSync(path.join(dir, f)).size).toBeLessThanOrEqual(1000);
    expect(readFileSync(path.join(dir, 'web.log.3'), 'utf8')).toBe(Array.from({ length: 10 }, (_, i) => line(i) + '\n').join(''));
    expect(readFileSync(path.join(dir, 'web.log'), 'utf8')).toBe(Array.from({ length: 5 }, (_, i) => line(30 + i) + '\n').join(''));
  });

  it('drops the lines of a chunk past the backlog bound and says how many', async () => {
    const dir = tmpDir();
    const logs = new LogDir(dir, { maxBytes: 2 ** 30, keep: 1, marker: (n) => `skipped ${n}`, onError: () => {} });
    const perChunk = 2000;
    const chunks = Math.ceil((2 * FILE_PENDING_MAX_BYTES) / (perChunk * 50));
    // All queued within one turn of the event loop: nothing is written yet.
    for (let c = 0; c < chunks; c++) logs.fileOf('web').writeLines(Buffer.from('p '), chunkOf(numbered(c * perChunk, perChunk, 'x'.repeat(40))));
    await logs.close();
    const text = readFileSync(path.join(dir, 'web.log'), 'utf8');
    const written = text.split('\n').filter((l) => l.startsWith('p ')).length;
    const skipped = Number(/^skipped (\d+)$/m.exec(text)?.[1]);
    expect(written).toBeGreaterThan(0);
    expect(written + skipped).toBe(chunks * perChunk);
    expect(text.length - `skipped ${skipped}\n`.length).toBeLessThanOrEqual(FILE_PENDING_MAX_BYTES);
  });

  it('a line longer than a whole file is cut to fit in one', async () => {
    const dir = tmpDir();
    const logs = new LogDir(dir, { maxBytes: 1024, keep: 3, marker: (n) => `skipped ${n}`, onError: () => {} });
    logs.fileOf('web').writeLines(Buffer.from('p '), chunkOf(['short', 'é'.repeat(2000), 'after']));
    await logs.close();
    const all = ['web.log.2', 'web.log.1', 'web.log'].map((f) => readFileSync(path.join(dir, f), 'utf8')).join('');
    const lines = all.split('\n').filter(Boolean);
    expect(lines[0]).toBe('p short');
    expect(lines[1]).toMatch(/^p é+$/); // cut on a character boundary
    expect(Buffer.byteLength(lines[1] as string) + 1).toBeLessThanOrEqual(1024);
    expect(lines[2]).toBe('p after');
  });
});

describe('Logger.lines', () => {
  it('writes a chunk to <unit>.log as time unit[pid] text, keeps it in memory, and writes nothing to /dev/null', async () => {
    const dir = tmpDir();
    const devNull = openSync('/dev/null', 'w');
    try {
      const logger = createLogger({ format: 'text', stdoutFd: devNull, env: {}, logDir: { dir, maxBytes: 1 << 20, keep: 1 } });
      const lines = ['hello', 'wörld', ''];
      logger.lines({ unit: 'web', instance: 2, pid: 77, stream: 'stderr', ...chunkOf(lines, '\r\n') });
      await logger.close();
      const file = readFileSync(path.join(dir, 'web.log'), 'utf8').split('\n');
      expect(file.slice(0, 3).map((l) => l.replace(/^\S+Z /, ''))).toEqual(['web[77] hello', 'web[77] wörld', 'web[77] ']);
      expect(file[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z web\[77\] hello$/);
      expect(logger.memory.tail(['web'], 10).map((r) => [r.text, r.stream, r.instance, r.pid])).toEqual(lines.map((t) => [t, 'stderr', 2, 77]));
    } finally {
      closeSync(devNull);
    }
  });

  it('--log-format json renders each line of a chunk as its own object', async () => {
    const dir = tmpDir();
    const devNull = openSync('/dev/null', 'w');
    try {
      const logger = createLogger({ format: 'json', stdoutFd: devNull, env: {}, logDir: { dir, maxBytes: 1 << 20, keep: 1 } });
      logger.lines({ unit: 'web', instance: 0, pid: 5, stream: 'stdout', ...chunkOf(['a', 'b']) });
      await logger.close();
      const objects = readFileSync(path.join(dir, 'web.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(objects).toEqual([
        { time: expect.any(String), source: 'child', unit: 'web', instance: 0, pid: 5, stream: 'stdout', text: 'a' },
        { time: expect.any(String), source: 'child', unit: 'web', instance: 0, pid: 5, stream: 'stdout', text: 'b' },
      ]);
    } finally {
      closeSync(devNull);
    }
  });
});
