// What validation needs to know beyond the unit's own data: where it lives and who runs it.
import type { AccountFiles, LauncherIdentity } from './accounts.js';

/** Inputs that resolve relative paths and check accounts. */
export interface ValidationContext {
  /** Absolute folder that relative paths in the unit are resolved against (the unit file's folder). */
  readonly unitDir: string;
  readonly identity: LauncherIdentity;
  readonly accountFiles: AccountFiles;
  /** PATH used to find exec[0] when the unit sets none. */
  readonly defaultPath: string;
}

/** Optional overrides of the launcher's identity and account files (tests; a future --user mode). */
export interface ValidateOptions {
  readonly identity?: LauncherIdentity;
  readonly accountFiles?: AccountFiles;
}
