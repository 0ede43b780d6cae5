// The bin's V8 settings (cmd/lean-v8.cts), from the build: a .cts file is CommonJS that
// the bin requires before anything else, and is tested as it ships.
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/launcher.js';

const { AFTER_START_V8_FLAGS, LEAN_V8_FLAGS, afterStartV8Flags, leanV8Flags } = createRequire(import.meta.url)(path.join(ROOT, 'dist/cmd/lean-v8.cjs')) as typeof import('../../cmd/lean-v8.cjs');

describe('leanV8Flags', () => {
  it('turns the compilers off and favours size when node was given no such choice', () => {
    expect(leanV8Flags([])).toEqual(['--no-opt', '--no-maglev', '--no-sparkplug', '--optimize-for-size']);
    expect(leanV8Flags(['--max-old-space-size=64', '--enable-source-maps', '--optional-chaining-x'])).toBe(LEAN_V8_FLAGS);
  });

  it('gives TurboFan and Sparkplug back after start-up, only where it took them', () => {
    expect(afterStartV8Flags([])).toEqual(['--opt', '--sparkplug']);
    expect(afterStartV8Flags([])).toBe(AFTER_START_V8_FLAGS);
    expect(afterStartV8Flags(['--no-opt'])).toEqual([]);
  });

  it.each([['--opt'], ['--turbofan'], ['--no-turbofan'], ['--maglev'], ['--jitless'], ['--optimize-for-size'], ['--optimize_for_size'], ['--sparkplug'], ['--turbofan=true']])(
    'leaves node alone when it was given %s',
    (arg) => {
      expect(leanV8Flags(['--enable-source-maps', arg])).toEqual([]);
    },
  );
});
