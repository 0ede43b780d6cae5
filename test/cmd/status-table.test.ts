// cmd/status-table and cmd/status-check: the table `launcher status` prints and the
// health rule of `status --check`, from a status reply alone.
import { describe, expect, it } from 'vitest';
import { fitCell, formatDuration, formatStatusTable, outputWidth } from '../../cmd/status-table.js';
import { checkExitCode } from '../../cmd/status-check.js';
import type { StatusReply, UnitStatusReply } from '../../src/control/replies.js';

function unit(name: string, extra: Partial<UnitStatusReply> = {}): UnitStatusReply {
  return {
    name, state: 'running', pids: [100], uptimeMs: 65_000, reason: null, restarts: 0, statusText: null,
    sockets: [{ name, listen: '8080', local: '127.0.0.1:8080' }], instances: [], ...extra,
  };
}

function reply(...units: UnitStatusReply[]): StatusReply {
  return { launcher: { pid: 1, uptimeMs: 1, unitsDir: null }, units };
}

describe('formatDuration', () => {
  it.each([
    [null, '-'], [850, '850ms'], [12_400, '12s'], [185_000, '3m05s'], [3_720_000, '1h02m'], [49 * 3_600_000 + 60_000, '2d01h'],
  ])('%s ms is %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('fitCell', () => {
  it('flattens control characters and cuts with an ellipsis', () => {
    expect(fitCell('a\nb\tc', 10)).toBe('a b c');
    expect(fitCell('abcdefgh', 5)).toBe('abcd…');
    expect(fitCell('abc', 3)).toBe('abc');
  });
});

describe('formatStatusTable', () => {
  it('prints one aligned row per unit, the reason before the STATUS= text', () => {
    const table = formatStatusTable(reply(unit('web', { statusText: 'serving' }), unit('db', { state: 'failed', pids: [], uptimeMs: null, reason: 'exit status 1', statusText: 'old' })));
    const [header, web, db] = table.trimEnd().split('\n');
    expect(header).toMatch(/^UNIT\s+STATE\s+PID\s+SOCKETS\s+UPTIME\s+RESTARTS\s+STATUS$/);
    expect(web).toMatch(/^web\s+running\s+100\s+127\.0\.0\.1:8080\s+1m05s\s+0\s+serving$/);
    expect(db).toMatch(/^db\s+failed\s+-\s+127\.0\.0\.1:8080\s+-\s+0\s+exit status 1$/);
    expect(header!.indexOf('STATE')).toBe(web!.indexOf('running'));
  });

  it('adds a STORED column only when some unit has an fd store, and a row per connection', () => {
    const table = formatStatusTable(reply(
      unit('keep', { fdStoreMax: 4, storedFds: [{ instance: 0, name: 'a' }] }),
      unit('echo', {
        perConnection: true, pids: [7, 8],
        instances: [{ index: 3, state: 'running', pid: 7, forMs: 2000, restarts: 0, statusText: null, lastExit: null, reason: null, uptimeMs: null }],
      }),
    ));
    expect(table).toMatch(/^UNIT\s+STATE\s+PID\s+SOCKETS\s+UPTIME\s+RESTARTS\s+STORED\s+STATUS$/m);
    expect(table).toMatch(/^keep\s+running\s+100\s+\S+\s+1m05s\s+0\s+1\/4$/m);
    expect(table).toMatch(/^echo\s+running\s+1 conn\s/m);
    expect(table).toMatch(/^echo@3\s+running\s+7\s+2s$/m);
    expect(formatStatusTable(reply(unit('web')))).not.toMatch(/STORED/);
  });

  it('cuts the last column to the width, and says so when there are no units', () => {
    const long = formatStatusTable(reply(unit('web', { statusText: 'x'.repeat(500) })), 80);
    for (const line of long.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(long).toMatch(/x…$/m);
    expect(formatStatusTable(reply())).toBe('no units\n');
  });
});

describe('outputWidth', () => {
  it('is the terminal width, else $COLUMNS, else 160', () => {
    expect(outputWidth({ isTTY: true, columns: 99 }, {})).toBe(99);
    expect(outputWidth({ isTTY: false }, { COLUMNS: '120' })).toBe(120);
    expect(outputWidth({}, { COLUMNS: 'wide' })).toBe(160);
  });
});

describe('checkExitCode (status --check)', () => {
  it('is 0 when every unit runs or waits, 1 otherwise, and 0 for no units', () => {
    expect(checkExitCode(reply(unit('a'), unit('b', { state: 'waiting' })))).toBe(0);
    for (const state of ['starting', 'backoff', 'stopping', 'failed', 'inactive']) expect(checkExitCode(reply(unit('a'), unit('b', { state })))).toBe(1);
    expect(checkExitCode(reply())).toBe(0);
  });
});
