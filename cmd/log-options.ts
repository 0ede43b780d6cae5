// `up`/`run` --log-dir/--log-max-size/--log-keep: parsed and checked once (bad values are usage errors, exit 2).
import type { Options } from 'yargs';
import { LauncherError } from '../src/errors.js';

/** The yargs options of `up` and `run`. */
export const logDirOptions: Record<string, Options> = {
  'log-dir': { type: 'string', describe: 'Also write DIR/<unit>.log and DIR/launcher.log, rotated' },
  'log-max-size': { type: 'string', default: '10MiB', describe: 'Rotate a log file before it grows past this (e.g. 512KiB, 10MiB)' },
  'log-keep': { type: 'number', default: 5, describe: 'Rotated files kept per log (<name>.log.1 …)' },
};

/** The smallest --log-max-size accepted: a log file must hold at least a few lines. */
export const MIN_LOG_SIZE = 1024;

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "10MiB", "512k", "1048576" → bytes (binary multiples); throws LAUNCHER_USAGE. */
export function parseSize(text: string, flag: string): number {
  const m = /^\s*(\d+)\s*([kmg]?)(?:i?b)?\s*$/i.exec(text);
  const bytes = m ? Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < MIN_LOG_SIZE) {
    throw new LauncherError('LAUNCHER_USAGE', `${flag}: expected a size of at least ${MIN_LOG_SIZE} bytes like "10MiB", "512KiB" or "65536", got ${JSON.stringify(text)}`, {
      key: flag, received: text,
    });
  }
  return bytes;
}

/** The log directory settings from argv, or undefined without --log-dir. */
export function logDirOption(argv: Record<string, unknown>): { dir: string; maxBytes: number; keep: number } | undefined {
  const keep = argv['log-keep'];
  if (typeof keep !== 'number' || !Number.isInteger(keep) || keep < 0 || keep > 1000) {
    throw new LauncherError('LAUNCHER_USAGE', `--log-keep: expected a whole number 0..1000, got ${String(keep)}`, { key: '--log-keep', received: String(keep) });
  }
  const maxBytes = parseSize(String(argv['log-max-size']), '--log-max-size');
  const dir = argv['log-dir'];
  if (dir === undefined) return undefined;
  if (typeof dir !== 'string' || dir === '') throw new LauncherError('LAUNCHER_USAGE', '--log-dir needs a folder', { key: '--log-dir' });
  return { dir, maxBytes, keep };
}
