// Unit errors as the lines `launcher check` and `up` print: "units/web.toml:3:9 [service].exec: message".
import path from 'node:path';
import type { LauncherError } from '../errors.js';

/**
 * One line per error: for an aggregate (LAUNCHER_UNITS_INVALID) one per entry of
 * `context.errors`, else one for `e` itself. Each line is
 * `<file>[:line[:col]] <key>: <message>`, the file relative to `cwd` when inside it;
 * parts that are unknown are left out (`<file>: <message>`, `<key>: <message>`, `<message>`).
 */
export function formatUnitError(e: LauncherError, cwd: string = process.cwd()): string[] {
  const errors = e.code === 'LAUNCHER_UNITS_INVALID' && Array.isArray(e.context.errors) && e.context.errors.length > 0 ? e.context.errors : [e];
  return errors.map((error) => formatOne(error, cwd));
}

function formatOne(error: LauncherError, cwd: string): string {
  const { file, line, column, key } = error.context;
  let where = typeof file === 'string' && file !== '' ? displayPath(file, cwd) : '';
  if (where && typeof line === 'number') {
    where += `:${line}`;
    if (typeof column === 'number') where += `:${column}`;
  }
  const head = [where, typeof key === 'string' ? key : ''].filter((part) => part !== '').join(' ');
  return head ? `${head}: ${error.message}` : error.message;
}

function displayPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
