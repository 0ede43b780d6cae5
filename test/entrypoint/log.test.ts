// The log's parts without a launcher: ring bounds, interleaving, rotation bounds,
// the colour rules (FORCE_COLOR, NO_COLOR) and sd-daemon priorities.
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { FILE_PENDING_MAX_BYTES, LogDir } from '../../src/entrypoint/log-files.js';
import { LogRing, MemoryLog, UNIT_LOG_BYTES } from '../../src/entrypoint/log-memory.js';
import { formatText, wantsColour, type LogRecord } from '../../src/entrypoint/log-record.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { requirePeers } from '../helpers/peers.js';

let seq = 0;
const rec = (unit: string | null, text: string, extra: Partial<LogRecord> = {}): LogRecord =>
  ({ seq: ++seq, time: Date.now(), unit, stream: 'stdout', level: 'info', text, ...extra });

const tmps: { cleanup: () => void }[] = [];
afterEach(() => tmps.splice(0).forEach((t) => t.cleanup()));

describe('LogRing and MemoryLog', () => {
  it('keeps the newest lines up to the line limit, and resizes keeping the newest', () => {
    const ring = new LogRing(3);
    for (let i = 1; i <= 5; i++) ring.push(rec('a', String(i)));
    expect(ring.last(10).map((r) => r.text)).toEqual(['3', '4', '5']);
    ring.resize(2);
    expect(ring.last(10).map((r) => r.text)).toEqual(['4', '5']);
  });

  it('holds at most UNIT_LOG_BYTES of text whatever the line limit', () => {
    const ring = new LogRing(1_000_000);
    const line = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 200; i++) ring.push(rec('a', line));
    expect(ring.size * line.length * 2).toBeLessThanOrEqual(UNIT_LOG_BYTES);
    expect(ring.size).toBeGreaterThan(0);
  });

  it('tail interleaves units in the order lines were taken; log_lines 0 keeps nothing', () => {
    const memory = new MemoryLog();
    memory.linesOf = (unit) => (unit === 'quiet' ? 0 : 10);
    for (const [unit, text] of [['a', '1'], ['b', '2'], ['quiet', 'x'], ['a', '3']] as const) memory.add(rec(unit, text));
    memory.add(rec(null, 'launcher event', { stream: 'launcher' }));
    expect(memory.tail([], 10).map((r) => r.text)).toEqual(['1', '2', '3', 'launcher event']);
    expect(memory.tail(['b', 'a'], 2).map((r) => r.text)).toEqual(['2', '3']);
    expect(memory.tail(['quiet'], 10)).toEqual([]);
  });

  it('followers get only the units they asked for, until they unsubscribe', () => {
    const memory = new MemoryLog();
    const got: string[] = [];
    const stop = memory.follow(['a'], (r) => got.push(r.text));
    memory.add(rec('a', '1'));
    memory.add(rec('b', '2'));
    stop();
    memory.add(rec('a', '3'));
    expect(got).toEqual(['1']);
  });
});

describe('LogDir rotation', () => {
  it('never lets a unit use more than (keep + 1) × maxBytes, whatever is written', async () => {
    const tmp = makeTmpDir('launcher-logdir-');
    tmps.push(tmp);
    const dir = path.join(tmp.dir, 'logs');
    mkdirSync(dir);
    const errors: Error[] = [];
    const logs = new LogDir(dir, { maxBytes: 4096, keep: 3, marker: (n) => `skipped ${n}`, onError: (_f, e) => errors.push(e) });
    for (let i = 0; i < 20_000; i++) logs.fileOf('web').write(`line ${i} ${'y'.repeat(i % 200)}`);
    await logs.close();
    expect(errors).toEqual([]);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['web.log', 'web.log.1', 'web.log.2', 'web.log.3']);
    const sizes = files.map((f) => statSync(path.join(dir, f)).size);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(4096);
    expect(readFileSync(path.join(dir, 'web.log'), 'utf8')).toMatch(/line 19999 y*\n$/);
  });
});

describe('a log file that cannot keep up', () => {
  it('drops lines past its backlog and writes how many (a FIFO read only after a second)', async (context) => {
    requirePeers(context, 'python3');
    const tmp = makeTmpDir('launcher-logfifo-');
    tmps.push(tmp);
    const fifo = path.join(tmp.dir, 'web.log');
    await execa('mkfifo', [fifo]);
    // A reader that starts reading only after a second: the disk that is too slow.
    const reader = execa('/usr/bin/python3', ['-c', `import sys, time\nf = open(${JSON.stringify(fifo)}, 'rb')\ntime.sleep(1)\nsys.stdout.buffer.write(f.read())`], { encoding: 'buffer', stripFinalNewline: false });
    const logs = new LogDir(tmp.dir, { maxBytes: 2 ** 30, keep: 1, marker: (n) => `skipped ${n}`, onError: () => {} });
    const lines = 200_000;
    for (let i = 0; i < lines; i++) logs.fileOf('web').write(`line ${i} ${'z'.repeat(40)}`);
    await logs.close();
    const text = Buffer.from((await reader).stdout).toString();
    const marker = /^skipped (\d+)$/m.exec(text);
    expect(marker).not.toBeNull();
    const written = text.split('\n').filter((l) => l.startsWith('line ')).length;
    expect(written + Number(marker?.[1])).toBe(lines);
    expect(written * 50).toBeLessThanOrEqual(FILE_PENDING_MAX_BYTES);
  });
});

describe('text style', () => {
  it('FORCE_COLOR wins ("0"/"false" turn colour off), then NO_COLOR; a non-terminal gets none', () => {
    const notATty = 99; // not an open fd: isatty is false
    expect(wantsColour(notATty, {})).toBe(false);
    expect(wantsColour(notATty, { FORCE_COLOR: '1' })).toBe(true);
    expect(wantsColour(notATty, { FORCE_COLOR: '' })).toBe(true);
    expect(wantsColour(notATty, { FORCE_COLOR: '0' })).toBe(false);
    expect(wantsColour(notATty, { FORCE_COLOR: 'false', NO_COLOR: '' })).toBe(false);
    expect(wantsColour(notATty, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(true);
  });

  it('priorities: <6> stdout and info, <4> warnings, <3> stderr and errors', () => {
    const style = { colour: false, priority: true, time: false };
    expect(formatText(rec('web', 'hi', { pid: 7 }), style)).toBe('<6>web[7] hi');
    expect(formatText(rec('web', 'oops', { pid: 7, stream: 'stderr' }), style)).toBe('<3>web[7] oops');
    expect(formatText(rec('web', 'slow', { stream: 'launcher', level: 'warn' }), style)).toBe('<4>web: warn: slow');
    expect(formatText(rec(null, 'bad', { stream: 'launcher', level: 'error' }), style)).toBe('<3>launcher: error: bad');
  });
});
