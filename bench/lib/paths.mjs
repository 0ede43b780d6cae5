// Where things are: the project root, the built CLI, the bench's work folder.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (the folder holding package.json). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * The built CLI as it is installed: the package's bin (the CommonJS entry that sizes the
 * threadpool and sets V8's tiers, then loads dist/cmd/launcher.js); `npm run build` makes it.
 */
export const CLI = path.join(ROOT, 'dist/cmd/launcher.cjs');
/** Git-ignored scratch space for peers installed at bench time (PM2) and their state. */
export const WORK = path.join(ROOT, 'bench/.work');
/** The benchmark apps. */
export const APPS = path.join(ROOT, 'bench/apps');
