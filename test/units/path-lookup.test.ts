// units/path-lookup: exec[0] resolved as execvp would, and why a command cannot run
// (context.executable), which `launcher run` turns into exit 127 or 126 as a shell does.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveExecutable } from '../../src/units/path-lookup.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { thrownBy } from '../helpers/errors.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((fn) => fn()));

function folder(): string {
  const tmp = makeTmpDir('launcher-path-');
  cleanups.push(tmp.cleanup);
  writeFileSync(path.join(tmp.dir, 'run-me'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(path.join(tmp.dir, 'plain'), 'x', { mode: 0o644 });
  mkdirSync(path.join(tmp.dir, 'sub'));
  chmodSync(path.join(tmp.dir, 'plain'), 0o644);
  return tmp.dir;
}

describe('resolveExecutable', () => {
  it('finds a path relative to workdir, and a bare name in PATH (relative entries from workdir)', () => {
    const dir = folder();
    expect(resolveExecutable('./run-me', { pathVar: '', workdir: dir })).toBe(path.join(dir, 'run-me'));
    expect(resolveExecutable('run-me', { pathVar: `/nonexistent:${dir}`, workdir: '/' })).toBe(path.join(dir, 'run-me'));
    expect(resolveExecutable('run-me', { pathVar: '.', workdir: dir })).toBe(path.join(dir, 'run-me'));
  });

  it.each([
    ['./missing', '', 'missing', /"\.\/missing" not found \(looked for/],
    ['./plain', '', 'not-executable', /is not executable \(.*plain is without execute permission\)/],
    ['./sub', '', 'not-executable', /is not executable \(.*sub is a folder\)/],
    ['missing', '.', 'missing', /"missing" not found in PATH$/],
    ['plain', '.', 'not-executable', /not found in PATH \(.*plain is without execute permission\)/],
    ['sub', '.', 'missing', /not found in PATH \(.*sub is a folder\)/],
  ])('%s (PATH "%s") cannot run: %s', (command, pathVar, executable, message) => {
    const dir = folder();
    const error = thrownBy(() => resolveExecutable(command, { pathVar, workdir: dir }));
    expect(error.code).toBe('LAUNCHER_UNIT_INVALID');
    expect(error.message).toMatch(message);
    expect(error.context.executable).toBe(executable);
  });
});
