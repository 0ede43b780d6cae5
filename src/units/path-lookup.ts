// exec[0] to an absolute executable path, the way execvp would find it, at load time.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { invalidValue } from './describe.js';

/**
 * Why a command cannot run, in its error's context as `executable`: as a shell decides
 * between exit 127 (command not found) and 126 (found, cannot execute).
 */
export type NotRunnable = 'missing' | 'not-executable';

/**
 * The absolute path that running `command` would execute. A command holding a "/" is
 * taken relative to `workdir`; a bare name is searched in `pathVar` (colon-separated; relative
 * or empty entries are taken relative to `workdir`, as execvp does relative to the cwd).
 * Throws LAUNCHER_UNIT_INVALID: `"nod" not found in PATH`, `"./x" not found`, `... is not executable`,
 * with context.executable a NotRunnable: a path that is not an executable file, or a name found in
 * PATH only without execute permission, is 'not-executable' (as bash says "Permission denied").
 */
export function resolveExecutable(command: string, { pathVar, workdir }: { pathVar: string; workdir: string }): string {
  if (command.includes('/')) {
    const candidate = path.resolve(workdir, command);
    const state = executableState(candidate);
    if (state === 'ok') return candidate;
    if (state === 'missing') throw invalidValue(`${JSON.stringify(command)} not found (looked for ${candidate})`, 'an executable file', command, notRunnable('missing'));
    throw invalidValue(`${JSON.stringify(command)} is not executable (${candidate} is ${state})`, 'an executable file', command, notRunnable('not-executable'));
  }
  let firstNotExecutable: { candidate: string; state: ExecutableState } | undefined;
  for (const dir of pathVar.split(':')) {
    const candidate = path.resolve(workdir, dir, command);
    const state = executableState(candidate);
    if (state === 'ok') return candidate;
    if (state !== 'missing') firstNotExecutable ??= { candidate, state };
  }
  const why = firstNotExecutable ? ` (${firstNotExecutable.candidate} is ${firstNotExecutable.state})` : '';
  const executable = firstNotExecutable?.state === 'without execute permission' ? 'not-executable' : 'missing';
  throw invalidValue(`${JSON.stringify(command)} not found in PATH${why}`, 'a command in PATH', command, notRunnable(executable));
}

function notRunnable(executable: NotRunnable): { executable: NotRunnable } {
  return { executable };
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
