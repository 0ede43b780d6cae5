// The value parsers on their own: durations, signals, addresses, shell-like split, env files, suggestions.
import { describe, expect, test } from 'vitest';
import { thrownBy } from '../helpers/errors.js';
import { parseEnvFile } from '../../src/units/env-file.js';
import { closest } from '../../src/units/suggest.js';
import { formatListen, parseDuration, parseListen, parseSignal, splitCommand } from '../../src/units/index.js';

describe('parseDuration', () => {
  test.each([
    ['250ms', 250], ['10s', 10_000], ['5m', 300_000], ['1h', 3_600_000], ['1m30s', 90_000], ['0', 0],
    ['1.5', 1500], [' 2s ', 2000], [0, 0], [3, 3000], [0.25, 250], ['0.5s', 500],
  ])('%j is %d ms', (input, ms) => expect(parseDuration(input)).toBe(ms));

  test.each([[true], ['10 sec'], ['-1s'], [-1], [''], ['s'], ['1d'], [Number.NaN], [Infinity], [null], [[1]], ['1e3']])('%j is refused', (input) => {
    const error = thrownBy(() => parseDuration(input));
    expect(error.code).toBe('LAUNCHER_UNIT_INVALID');
    expect(error.context.expected).toBe('a duration like "10s"');
  });

  test('longer than a Node timer can wait is refused', () => {
    expect(thrownBy(() => parseDuration('600h')).message).toMatch(/too long/);
  });
});

describe('parseSignal', () => {
  test.each([['SIGTERM', 'SIGTERM'], ['TERM', 'SIGTERM'], ['int', 'SIGINT'], ['SIGHUP', 'SIGHUP'], ['KILL', 'SIGKILL']])('%s is %s', (input, name) => {
    expect(parseSignal(input)).toBe(name);
  });
  test.each([['SIGFOO'], [''], [15], ['SIG']])('%j is refused', (input) => {
    expect(thrownBy(() => parseSignal(input)).code).toBe('LAUNCHER_UNIT_INVALID');
  });
});

describe('parseListen', () => {
  test.each([
    ['8080', { kind: 'inet', host: null, port: 8080, family: 'any' }],
    ['0.0.0.0:1', { kind: 'inet', host: '0.0.0.0', port: 1, family: 4 }],
    ['localhost:65535', { kind: 'inet', host: '127.0.0.1', port: 65535, family: 4 }],
    ['[::]:80', { kind: 'inet', host: '::', port: 80, family: 6 }],
    ['[0:0:0:0:0:0:0:1]:80', { kind: 'inet', host: '::1', port: 80, family: 6 }],
    ['/run/app.sock', { kind: 'unix', path: '/run/app.sock' }],
    ['unix:app.sock', { kind: 'unix', path: '/units/app.sock' }],
    ['unix:../x/app.sock', { kind: 'unix', path: '/x/app.sock' }],
    ['@name', { kind: 'abstract', name: 'name' }],
    ['fd:http', { kind: 'fd', name: 'http' }],
  ])('%s', (text, expected) => {
    expect(parseListen(text, '/units')).toEqual(expected);
  });

  test.each([
    ['', /expected/], ['0', /1-65535/], ['65536', /1-65535/], ['host:80', /not an IPv4/], ['1.2.3:80', /not an IPv4/],
    ['[::1]', /":PORT"/], ['[::1:80', /missing "\]"/], ['[nope]:80', /not an IPv6/], ['::1:80', /brackets/], [':80', /just the port/],
    ['@', /needs a name/], ['unix:', /needs a path/], ['fd:a:b', /must not contain ":"/], ['fd:', /must not be empty/],
    ['/tmp/dir/', /must name a file/], [`/${'x'.repeat(107)}`, /longer than 107/], [`@${'x'.repeat(107)}`, /at most 106/],
  ])('%j is refused', (text, why) => {
    expect(thrownBy(() => parseListen(text, '/units')).message).toMatch(why);
  });

  test('formatListen writes an address back', () => {
    for (const text of ['8080', '127.0.0.1:80', '[::1]:80', '/a.sock', '@x', 'fd:y']) {
      expect(formatListen(parseListen(text, '/'))).toBe(text);
    }
  });
});

describe('splitCommand', () => {
  test.each([
    ['node server.mjs', ['node', 'server.mjs']],
    ['  a   b  ', ['a', 'b']],
    [`sh -c 'echo "hi" $HOME'`, ['sh', '-c', 'echo "hi" $HOME']],
    [`a "b \\"c\\" \\\\ \\n"`, ['a', 'b "c" \\ \\n']],
    ['a\\ b c', ['a b', 'c']],
    [`a '' ""`, ['a', '', '']],
    ['a"b"\'c\'d', ['abcd']],
    ['a \\\n b', ['a', 'b']],
    ['', []],
  ])('%j', (text, argv) => expect(splitCommand(text)).toEqual(argv));

  test.each([[`a 'b`], [`a "b`], ['a \\']])('%j is refused', (text) => {
    expect(thrownBy(() => splitCommand(text)).code).toBe('LAUNCHER_UNIT_INVALID');
  });
});

describe('parseEnvFile', () => {
  test('comments, blanks, export, quotes; later lines win', () => {
    const { env, problems } = parseEnvFile('# c\n\nexport A=1\nB = "two words"\nC=\'x # y\'\nD=a=b\nA=3\nE=\n');
    expect(problems).toEqual([]);
    expect({ ...env }).toEqual({ A: '3', B: 'two words', C: 'x # y', D: 'a=b', E: '' });
  });

  test('every bad line is reported with its number, good lines still count', () => {
    const { env, problems } = parseEnvFile('GOOD=1\nNOEQUALS\n1BAD=x\nQ="open\n');
    expect({ ...env }).toEqual({ GOOD: '1' });
    expect(problems.map((p) => p.line)).toEqual([2, 3, 4]);
    expect(problems[2]?.message).toMatch(/unbalanced "/);
  });
});

describe('closest', () => {
  test.each([
    ['ready_timout', 'ready_timeout'], ['ready-timeout', 'ready_timeout'], ['Exec', 'exec'], ['backlg', 'backlog'], ['zzzzzz', undefined],
  ])('%s suggests %s', (word, suggestion) => {
    expect(closest(word, ['ready_timeout', 'exec', 'backlog', 'ready'])).toBe(suggestion);
  });
});
