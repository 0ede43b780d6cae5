// Reading unit files from disk: one file, or a whole folder refused whole on any error.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import toml from 'toml';
import { LauncherError } from '../errors.js';
import type { ValidateOptions } from './context.js';
import { clashBucket, listensClash } from './duplicates.js';
import { fileKeyName, Issues } from './issues.js';
import { aggregateError, checkUnit, hasAddress, type CheckedUnit } from './validate.js';
import type { Unit } from './types.js';

/**
 * Every `*.toml` in `dir`, sorted by file name, validated together (including addresses
 * clashing across units). Hidden files (".x.toml", editor droppings) are skipped. Zero files
 * gives []. Any problem, including a missing or unreadable `dir`, throws ONE
 * 'LAUNCHER_UNITS_INVALID' error whose `context.errors` lists every error in every file.
 */
export async function loadUnitDir(dir: string, options: ValidateOptions = {}): Promise<Unit[]> {
  const folder = path.resolve(dir);
  let names: string[];
  try {
    names = (await readdir(folder)).filter((name) => name.endsWith('.toml') && !name.startsWith('.')).sort();
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code ?? 'error';
    const why = errno === 'ENOENT' ? 'does not exist' : errno === 'ENOTDIR' ? 'is not a folder' : `cannot be read (${errno})`;
    throw aggregateError([new LauncherError('LAUNCHER_UNIT_INVALID', `units folder ${why}`, { file: folder, errnoName: errno })]);
  }
  const checked = await Promise.all(names.map((name) => readAndCheck(path.join(folder, name), options)));
  checkDuplicatesAcross(checked);
  const errors = checked.flatMap((c) => c.issues.errors);
  if (errors.length > 0) throw aggregateError(errors);
  return checked.map((c) => c.unit as Unit);
}

/** One unit file (its name is the file name without ".toml"); throws the aggregate error like loadUnitDir. */
export async function loadUnitFile(file: string, options: ValidateOptions = {}): Promise<Unit> {
  const checked = await readAndCheck(path.resolve(file), options);
  if (checked.unit) return checked.unit;
  throw aggregateError(checked.issues.errors);
}

/** The unit name a file gives: its base name without ".toml". */
export function unitNameOf(file: string): string {
  return path.basename(file, '.toml');
}

async function readAndCheck(file: string, options: ValidateOptions): Promise<CheckedUnit> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code ?? 'error';
    const why = errno === 'ENOENT' ? 'does not exist' : errno === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${errno})`;
    return failed(file, new LauncherError('LAUNCHER_UNIT_INVALID', `unit file ${why}`, { file, unit: unitNameOf(file), errnoName: errno }));
  }
  return checkUnitText({ file, source }, options);
}

/**
 * Parse and validate unit file text (no disk access for the unit itself; env_file, workdir and
 * exec[0] are still checked on disk). Never throws for bad input: errors are in `issues`.
 */
export function checkUnitText({ file, source }: { file: string; source: string }, options: ValidateOptions = {}): CheckedUnit {
  const name = unitNameOf(file);
  let data: unknown;
  try {
    data = toml.parse(source);
  } catch (error) {
    return failed(file, syntaxError(error, file, name));
  }
  return checkUnit({ name, file, source, data }, options);
}

/** toml's parser errors carry `location.start`; its compiler errors (duplicate keys) carry `line`/`column`. */
function syntaxError(error: unknown, file: string, unit: string): LauncherError {
  const e = (error ?? {}) as { message?: unknown; found?: unknown; location?: { start?: { line?: number; column?: number } }; line?: number; column?: number };
  const line = e.location?.start?.line ?? e.line;
  const column = e.location?.start?.column ?? e.column;
  const raw = typeof e.message === 'string' ? e.message : String(error);
  let message: string;
  if (e.location && 'found' in e) {
    message = `invalid TOML: ${e.found === null || e.found === undefined ? 'unexpected end of file' : `unexpected ${JSON.stringify(e.found)}`}`;
  } else {
    message = `invalid TOML: ${raw}`;
  }
  const context: Record<string, unknown> = { file, unit, parserMessage: raw };
  if (typeof line === 'number') context.line = line;
  if (typeof column === 'number') context.column = column;
  return new LauncherError('LAUNCHER_UNIT_SYNTAX', message, context, { cause: error });
}

function failed(file: string, error: LauncherError): CheckedUnit {
  const issues = new Issues({ unit: unitNameOf(file), file, keyName: fileKeyName });
  issues.errors.push(error);
  return { file, issues, sockets: [] };
}

/**
 * Each socket against every socket of earlier units; the error goes to the later one, naming
 * both files (the first earlier unit that clashes, and its first clashing socket). Sockets are
 * compared only within their clashBucket, so 1000 units cost 1000 lookups, not 500 000 pairs.
 */
function checkDuplicatesAcross(units: readonly CheckedUnit[]): void {
  const buckets = new Map<string, { unit: CheckedUnit; index: number }[]>();
  for (const later of units) {
    later.sockets.forEach((socket, socketIndex) => {
      if (!hasAddress(socket)) return;
      const earlierOne = buckets.get(clashBucket(socket))?.find((e) => hasAddress(e.unit.sockets[e.index]!) && listensClash(e.unit.sockets[e.index]!, socket));
      if (!earlierOne) return;
      const other = earlierOne.unit.sockets[earlierOne.index]!;
      const otherFile = earlierOne.unit.file;
      const otherIndex = earlierOne.index;
      const how = listensClash(other, socket) === 'same' ? 'is already used by' : 'overlaps';
      later.issues.add({ table: 'socket', index: socketIndex, key: 'listen' },
        `${JSON.stringify(socket.listenText)} ${how} ${path.basename(otherFile)} [[socket]][${otherIndex}] (${JSON.stringify(other.listenText)})`,
        { extra: { address: socket.listenText, otherFile, otherKey: `[[socket]][${otherIndex}].listen` } });
    });
    later.sockets.forEach((socket, index) => {
      const key = clashBucket(socket);
      const bucket = buckets.get(key);
      if (bucket) bucket.push({ unit: later, index });
      else buckets.set(key, [{ unit: later, index }]);
    });
  }
}
