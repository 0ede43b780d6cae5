// exec[0] to an absolute executable path, the way execvp would find it, at load time.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { invalidValue } from './describe.js';

/**
 * The absolute path that running `command` would execute. A command holding a "/" is
 * taken relative to `workdir`; a bare name is searched in `pathVar` (colon-separated; relative
 * or empty entries are taken relative to `workdir`, as execvp does relative to the cwd).
 * Throws LAUNCHER_UNIT_INVALID: `"nod" not found in PATH`, `"./x" not found`, `... is not executable`.
 */
export function resolveExecutable(command: string, { pathVar, workdir }: { pathVar: string; workdir: string }): string {
  if (command.includes('/')) {
    const candidate = path.resolve(workdir, command);
    const state = executableState(candidate);
    if (state === 'ok') return candidate;
    if (state === 'missing') throw invalidValue(`${JSON.stringify(command)} not found (looked for ${candidate})`, 'an executable file', command);
    throw invalidValue(`${JSON.stringify(command)} is not executable (${candidate} is ${state})`, 'an executable file', command);
  }
  let firstNotExecutable: string | undefined;
  for (const dir of pathVar.split(':')) {
    const candidate = path.resolve(workdir, dir, command);
    const state = executableState(candidate);
    if (state === 'ok') return candidate;
    if (state !== 'missing') firstNotExecutable ??= `${candidate} is ${state}`;
  }
  const why = firstNotExecutable ? ` (${firstNotExecutable})` : '';
  throw invalidValue(`${JSON.stringify(command)} not found in PATH${why}`, 'a command in PATH', command);
}

type ExecutableState = 'ok' | 'missing' | 'a folder' | 'not a regular file' | 'without execute permission';

function executableState(file: string): ExecutableState {
  let stats;
  try {
    stats = statSync(file);
  } catch {
    return 'missing';
  }
  if (stats.isDirectory()) return 'a folder';
  if (!stats.isFile()) return 'not a regular file';
  try {
    accessSync(file, constants.X_OK);
    return 'ok';
  } catch {
    return 'without execute permission';
  }
}
