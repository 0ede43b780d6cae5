// cmd/ helpers without a launcher: how errors become messages and exit codes (exit.ts),
// the log flags of up/run (log-options.ts), LAUNCHER_TIMEOUT and progress lines
// (client.ts), the unit directory (options.ts) and restart reports (unit-verbs.ts).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeError, finish, reportError } from '../../cmd/exit.js';
import { logDirOption, parseSize, MIN_LOG_SIZE } from '../../cmd/log-options.js';
import { printProgress, silenceMs } from '../../cmd/client.js';
import { unitsDir } from '../../cmd/options.js';
import { describeRestart } from '../../cmd/commands/unit-verbs.js';
import { LauncherError } from '../../src/errors.js';

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

/** Captures what `run` writes to stdout or stderr. */
function captured(stream: NodeJS.WriteStream, run: () => unknown): { text: string; result: unknown } {
  let text = '';
  vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  const result = run();
  return { text, result };
}

describe('exit.ts', () => {
  it('maps codes to SPEC exit codes and prints the message', () => {
    const usage = captured(process.stderr, () => reportError(new LauncherError('LAUNCHER_USAGE', 'bad flag')));
    expect([usage.result, usage.text]).toEqual([2, 'launcher: bad flag\n']);
    expect(captured(process.stderr, () => reportError(new LauncherError('LAUNCHER_UNREACHABLE', 'nobody'))).result).toBe(3);
    expect(captured(process.stderr, () => reportError(new LauncherError('LAUNCHER_RESTART_FAILED', 'rolled back'))).result).toBe(1);
  });

  it('calls anything else a bug (exit 1) and says how to see its stack', () => {
    const bug = captured(process.stderr, () => reportError(new Error('boom')));
    expect(bug.result).toBe(1);
    expect(bug.text).toBe('launcher: boom\nlauncher: this is a bug; run again with --debug for a stack trace\n');
  });

  it('adds what a partial reload changed and a failed service\'s last output', () => {
    const error = new LauncherError('LAUNCHER_RESTART_FAILED', 'reload applied partly', { summary: ['web: restarted'], lastLines: ['oops'] });
    expect(describeError(error)).toEqual(['launcher: reload applied partly', '  what changed:', '    web: restarted', '  its last output:', '    oops']);
  });

  it('finish sets the exit code from the action\'s result or error', async () => {
    await finish(async () => 7);
    expect(process.exitCode).toBe(7);
    await finish(async () => {});
    expect(process.exitCode).toBe(0);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await finish(async () => {
      throw new LauncherError('LAUNCHER_UNITS_INVALID', 'invalid', { errors: [] });
    });
    expect(process.exitCode).toBe(2);
  });
});

describe('log-options.ts', () => {
  it.each([['10MiB', 10 * 1024 ** 2], ['512k', 512 * 1024], ['65536', 65536], [' 2 GiB ', 2 * 1024 ** 3], ['1kb', 1024], ['10 MB', 10 * 1024 ** 2]])('parses %j', (text, bytes) => {
    expect(parseSize(text, '--log-max-size')).toBe(bytes);
  });

  it('refuses sizes below the minimum and text that is no size, as usage errors', () => {
    for (const bad of [String(MIN_LOG_SIZE - 1), '10 TB', 'lots', '-5k']) {
      expect(() => parseSize(bad, '--log-max-size'), bad).toThrowError(expect.objectContaining({ code: 'LAUNCHER_USAGE', context: expect.objectContaining({ key: '--log-max-size' }) }));
    }
  });

  it('checks --log-keep and --log-max-size even without --log-dir', () => {
    expect(logDirOption({ 'log-keep': 5, 'log-max-size': '10MiB' })).toBeUndefined();
    expect(logDirOption({ 'log-dir': '/var/log/l', 'log-keep': 3, 'log-max-size': '1MiB' })).toEqual({ dir: '/var/log/l', maxBytes: 1024 ** 2, keep: 3 });
    expect(() => logDirOption({ 'log-keep': 1.5, 'log-max-size': '10MiB' })).toThrowError(expect.objectContaining({ code: 'LAUNCHER_USAGE' }));
    expect(() => logDirOption({ 'log-keep': 5, 'log-max-size': 'x' })).toThrowError(expect.objectContaining({ code: 'LAUNCHER_USAGE' }));
    expect(() => logDirOption({ 'log-dir': '', 'log-keep': 5, 'log-max-size': '10MiB' })).toThrowError(expect.objectContaining({ code: 'LAUNCHER_USAGE' }));
  });
});

describe('client.ts and options.ts', () => {
  it('reads LAUNCHER_TIMEOUT as a duration above zero, 10 s by default', () => {
    expect(silenceMs({})).toBe(10_000);
    expect(silenceMs({ LAUNCHER_TIMEOUT: '' })).toBe(10_000);
    expect(silenceMs({ LAUNCHER_TIMEOUT: '500ms' })).toBe(500);
    expect(silenceMs({ LAUNCHER_TIMEOUT: '3' })).toBe(3000);
    for (const bad of ['0', 'soon']) expect(() => silenceMs({ LAUNCHER_TIMEOUT: bad }), bad).toThrowError(expect.objectContaining({ code: 'LAUNCHER_USAGE' }));
  });

  it('prints a progress event\'s line, prefixed with its unit, and nothing for an event without one', () => {
    expect(captured(process.stdout, () => printProgress({ unit: 'web', message: 'new child 4 is ready' })).text).toBe('web: new child 4 is ready\n');
    expect(captured(process.stdout, () => printProgress({ message: 'nothing changed' })).text).toBe('nothing changed\n');
    expect(captured(process.stdout, () => printProgress({ heartbeat: true })).text).toBe('');
  });

  it('takes --units, else LAUNCHER_UNITS, else ./units', () => {
    const saved = process.env.LAUNCHER_UNITS;
    try {
      process.env.LAUNCHER_UNITS = '/etc/launcher';
      expect(unitsDir('mine')).toBe('mine');
      expect(unitsDir(undefined)).toBe('/etc/launcher');
      delete process.env.LAUNCHER_UNITS;
      expect(unitsDir('')).toBe('units');
    } finally {
      if (saved === undefined) delete process.env.LAUNCHER_UNITS;
      else process.env.LAUNCHER_UNITS = saved;
    }
  });
});

describe('describeRestart (unit-verbs.ts)', () => {
  it('says one line per instance swapped, indexed when there are several', () => {
    expect(describeRestart({ unit: 'web', instances: [{ index: 0, oldPid: 10, newPid: 11, readyMs: 120.4, drainMs: 30 }] })).toEqual([
      'web: 10 → 11, ready in 120 ms, drained in 30 ms',
    ]);
    expect(describeRestart({ unit: 'w', instances: [{ index: 0, oldPid: null, newPid: 5, readyMs: 1, drainMs: 0 }, { index: 1, oldPid: 3, newPid: 6, readyMs: 2, drainMs: 1 }] })).toEqual([
      'w[0]: - → 5, ready in 1 ms, drained in 0 ms',
      'w[1]: 3 → 6, ready in 2 ms, drained in 1 ms',
    ]);
  });
});
