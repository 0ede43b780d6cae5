// Hostile input never crashes or hangs the loader: the outcome is a Unit or a LAUNCHER_ error, nothing else.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LauncherError } from '../../src/errors.js';
import { adHocUnit, parseDuration, parseListen, splitCommand, validateUnit } from '../../src/units/index.js';
import { checkUnitText } from '../../src/units/load.js';

const VALID = fileURLToPath(new URL('../fixtures/units/valid', import.meta.url));
const VALID_SOURCES = readdirSync(VALID).filter((f) => f.endsWith('.toml')).map((f) => ({ file: path.join(VALID, f), source: readFileSync(path.join(VALID, f), 'utf8') }));
const RUN = { numRuns: 300, interruptAfterTimeLimit: 8_000 };

/** The property: a Unit, or a LauncherError whose code (and every nested code) starts with LAUNCHER_. */
function outcomeIsClean(run: () => unknown): boolean {
  try {
    const value = run();
    return typeof value === 'object' && value !== null;
  } catch (error) {
    if (!(error instanceof LauncherError) || !error.code.startsWith('LAUNCHER_')) throw error;
    for (const inner of error.context.errors ?? []) expect(inner.code).toMatch(/^LAUNCHER_UNIT_(INVALID|SYNTAX)$/);
    return true;
  }
}

/** checkUnitText never throws: every problem ends up in its issues. */
function textIsClean(file: string, source: string): boolean {
  const checked = checkUnitText({ file, source });
  expect(checked.unit !== undefined || checked.issues.errors.length > 0).toBe(true);
  for (const e of checked.issues.errors) expect(e.code).toMatch(/^LAUNCHER_UNIT_(INVALID|SYNTAX)$/);
  return true;
}

const KEYS = ['exec', 'listen', 'ready', 'ready_timeout', 'stop_signal', 'instances', 'env', 'mode', 'type', 'name', 'workdir', 'env_file', 'user', 'backlog', '__proto__', 'constructor'];
const VALUES = ['"10s"', '"sh"', '["sh", "-c"]', '1', '-5', 'true', '0.5', '"127.0.0.1:80"', '"@x"', '"unix:a"', '{ A = 1 }', '[]', '"fd:x"', '1979-05-27', '"\\u0000"', '"0660"'];
const tomlish = fc.array(
  fc.oneof(
    fc.constantFrom('[service]', '[[socket]]', '[socket]', '[service.env]', 'description = "d"', ''),
    fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES)).map(([k, v]) => `${k} = ${v}`),
    fc.string({ maxLength: 30 }),
  ),
  { maxLength: 25 },
).map((lines) => lines.join('\n'));

describe('properties', () => {
  test('random text as a unit file', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => textIsClean('/tmp/fuzz.toml', text)), RUN);
  });

  test('random TOML-ish text as a unit file', () => {
    fc.assert(fc.property(tomlish, (text) => textIsClean('/tmp/fuzz.toml', text)), RUN);
  });

  test('mutations of the valid fixtures', () => {
    const mutation = fc.record({
      fixture: fc.nat({ max: VALID_SOURCES.length - 1 }),
      at: fc.nat(),
      cut: fc.nat({ max: 20 }),
      insert: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...VALUES, '"', "'", '[', ']', '\n', '=', '#', '\\')),
    });
    fc.assert(
      fc.property(mutation, ({ fixture, at, cut, insert }) => {
        const { file, source } = VALID_SOURCES[fixture] as { file: string; source: string };
        const i = at % (source.length + 1);
        return textIsClean(file, source.slice(0, i) + insert + source.slice(i + cut));
      }),
      RUN,
    );
  });

  test('random data structures given to validateUnit', () => {
    const data = fc.oneof(
      fc.anything(),
      fc.record({ service: fc.dictionary(fc.constantFrom(...KEYS), fc.anything()), socket: fc.array(fc.dictionary(fc.constantFrom(...KEYS), fc.anything()), { maxLength: 3 }) }, { requiredKeys: [] }),
    );
    fc.assert(fc.property(fc.string({ maxLength: 20 }), data, (name, value) => outcomeIsClean(() => validateUnit({ name, file: '/tmp/x.toml', data: value }))), RUN);
  });

  test('random flags given to adHocUnit', () => {
    const flags = fc.record({
      name: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
      listen: fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('8080', '[::1]:80', '@a', 'unix:x', 'fd:a')), { maxLength: 4 }),
      fdname: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
      exec: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
    });
    fc.assert(fc.property(flags, (opts) => outcomeIsClean(() => adHocUnit({ ...opts, cwd: '/tmp' }))), RUN);
  });

  test('the value parsers on random input', () => {
    const run = { ...RUN, numRuns: 500 };
    fc.assert(fc.property(fc.anything(), (v) => outcomeIsClean(() => ({ ms: parseDuration(v) }))), run);
    fc.assert(fc.property(fc.string({ maxLength: 120 }), (t) => outcomeIsClean(() => parseListen(t, '/units'))), run);
    fc.assert(fc.property(fc.string({ maxLength: 120 }), (t) => outcomeIsClean(() => splitCommand(t))), run);
  });
});
