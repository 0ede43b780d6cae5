// The printed error lines, and `launcher run`'s ad-hoc unit (errors name flags, not file keys).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { LauncherError } from '../../src/errors.js';
import { thrownBy } from '../helpers/errors.js';
import { adHocUnit, formatUnitError, loadUnitFile, validateUnit } from '../../src/units/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/units', import.meta.url));

describe('formatUnitError', () => {
  test('file relative to cwd, line:col, key, message', async () => {
    const error = await loadUnitFile(path.join(FIXTURES, 'invalid/exec-not-found.toml')).catch((e: LauncherError) => e);
    expect(formatUnitError(error as LauncherError, FIXTURES)).toEqual(['invalid/exec-not-found.toml:2:8 [service].exec: "nod" not found in PATH']);
    expect(formatUnitError(error as LauncherError, '/nonexistent')).toEqual([
      `${path.join(FIXTURES, 'invalid/exec-not-found.toml')}:2:8 [service].exec: "nod" not found in PATH`,
    ]);
  });

  test('unknown parts are left out; a plain error is one line', () => {
    expect(formatUnitError(new LauncherError('LAUNCHER_UNIT_INVALID', 'boom', { file: '/x/a.toml', key: 'k' }), '/x')).toEqual(['a.toml k: boom']);
    expect(formatUnitError(new LauncherError('LAUNCHER_UNIT_SYNTAX', 'bad', { file: '/x/a.toml', line: 2 }), '/x')).toEqual(['a.toml:2: bad']);
    expect(formatUnitError(new LauncherError('LAUNCHER_USAGE', 'plain'))).toEqual(['plain']);
  });
});

describe('validateUnit', () => {
  test('without source, errors carry no line', () => {
    const error = thrownBy(() => validateUnit({ name: 'x', file: '/tmp/x.toml', data: { service: { exec: ['sh'], instances: 'two' } } }));
    expect(error.code).toBe('LAUNCHER_UNITS_INVALID');
    expect(error.context.errors?.map((e) => [e.context.key, e.context.line])).toEqual([['[service].instances', undefined]]);
  });

  test('a wrong-typed input is an error, not a crash', () => {
    expect(thrownBy(() => validateUnit({ name: 'x', file: '/tmp/x.toml', data: 'nope' })).code).toBe('LAUNCHER_UNITS_INVALID');
  });
});

describe('adHocUnit', () => {
  test('defaults: name "run", workdir = cwd, fd name = unit name', () => {
    const unit = adHocUnit({ listen: ['127.0.0.1:9400', 'unix:run.sock'], exec: ['sh', '-c', 'true'], cwd: '/tmp' });
    expect(unit.name).toBe('run');
    expect(unit.file).toBe('');
    expect(unit.service.workdir).toBe('/tmp');
    expect(unit.service.ready).toBe('started');
    expect(unit.sockets.map((s) => [s.listen, s.name])).toEqual([
      [{ kind: 'inet', host: '127.0.0.1', port: 9400, family: 4 }, 'run'],
      [{ kind: 'unix', path: '/tmp/run.sock' }, 'run'],
    ]);
  });

  test('flags are applied', () => {
    const unit = adHocUnit({ name: 'web', listen: ['9401'], fdname: 'http', ready: 'notify', exec: ['sh'], cwd: '/tmp' });
    expect([unit.name, unit.sockets[0]?.name, unit.service.ready]).toEqual(['web', 'http', 'notify']);
  });

  test('errors name the flag, once each', () => {
    const error = thrownBy(() => adHocUnit({ name: '-x', listen: ['80800', 'a:b'], fdname: 'a:b', exec: ['nod'], cwd: '/tmp' }));
    expect(formatUnitError(error)).toEqual([
      '--name: unit name "-x" must match [A-Za-z0-9][A-Za-z0-9_.@-]* (at most 255 characters)',
      'CMD: "nod" not found in PATH',
      '-l: bad address "80800": the port must be 1-65535, got 80800',
      '--fdname: the fd name "a:b" must not contain ":" (it separates LISTEN_FDNAMES entries)',
      '-l: bad address "a:b": the port must be a number 1-65535, got "b"',
    ]);
  });

  test('the same address twice is refused', () => {
    const error = thrownBy(() => adHocUnit({ listen: ['9402', '9402'], exec: ['sh'], cwd: '/tmp' }));
    expect(error.context.errors?.map((e) => e.context.key)).toEqual(['-l']);
  });

  test('an empty command is refused', () => {
    const error = thrownBy(() => adHocUnit({ listen: [], exec: [], cwd: '/tmp' }));
    expect(formatUnitError(error)).toEqual(['CMD: must name a command, got an empty one']);
  });
});
