// Whether a folder a unit names exists: its workdir, the folder of a unix socket file.
import { statSync } from 'node:fs';

/** Why `dir` cannot serve as a folder ("does not exist", "is not a folder"), or undefined when it can. */
export function folderProblem(dir: string): string | undefined {
  try {
    return statSync(dir).isDirectory() ? undefined : 'is not a folder';
  } catch {
    return 'does not exist';
  }
}
