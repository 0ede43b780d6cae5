// Build step after tsc: bundles the CLI (dist/cmd/launcher.js) and the launcher it
// loads on demand into one file each, so a command start reads and compiles two or
// three files instead of ~300 modules (measured in bench/RESULTS.md, "Where the memory
// and the start-up time go"). tsc's per-file output stays in dist/ for the
// `launcher/service` export and for tests; only dist/cmd/launcher.js is replaced.
//
// Dynamic import() stays a separate chunk: `launcher status` never parses the daemon.
// koffi stays external (a native addon, resolved from node_modules at run time).
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cmdDir = path.join(root, 'dist/cmd');
const entry = path.join(cmdDir, 'launcher.js');

// Chunks sit beside the entry (same depth), so `new URL('../../package.json', import.meta.url)`
// and createRequire(import.meta.url) resolve the same from every file of the bundle.
for (const name of readdirSync(cmdDir)) if (name.startsWith('chunk-')) rmSync(path.join(cmdDir, name));

/**
 * yargs finds "its" package.json by walking up from the folder above `node_modules` in
 * its own path; bundled, that path has no node_modules and it would walk up from the
 * user's cwd (a readdir per level, a stranger's package.json). Point it at ours again.
 */
const yargsMainFilename = {
  name: 'yargs-main-filename',
  transform(code, id) {
    if (!id.replaceAll('\\', '/').endsWith('yargs/lib/platform-shims/esm.mjs')) return null;
    const from = "__dirname.substring(0, __dirname.lastIndexOf('node_modules'))";
    if (!code.includes(from)) throw new Error(`bundle: yargs' platform shim changed; check ${id}`);
    return code.replace(from, "__dirname.substring(0, __dirname.lastIndexOf('dist'))");
  },
};

/** Every copy of `string-width` (yargs, cliui, wrap-ansi) becomes string-width-plain.mjs. */
const plainStringWidth = {
  name: 'plain-string-width',
  resolveId(source) {
    return source === 'string-width' ? path.join(root, 'scripts/string-width-plain.mjs') : null;
  },
};

const bundle = await rolldown({
  input: entry,
  platform: 'node',
  external: ['koffi'],
  plugins: [yargsMainFilename, plainStringWidth],
  // Every dependency is ESM or plain CJS; nothing may be left unresolved.
  onwarn(warning, warn) {
    if (warning.code === 'UNRESOLVED_IMPORT') throw new Error(`bundle: ${warning.message}`);
    warn(warning);
  },
});
await bundle.write({
  file: undefined,
  dir: cmdDir,
  format: 'esm',
  entryFileNames: 'launcher.js',
  chunkFileNames: 'chunk-[name]-[hash].js',
  sourcemap: true,
  // V8 keeps each module's source text for the process's life, as Latin-1 when every
  // character fits, else as UTF-16 (twice the bytes): one "→" in a message doubled the
  // launcher's source strings to 1.7 MiB. ASCII output escapes such characters, and
  // comments (read in src/, mapped back by the source maps) are left out of the bundle.
  charset: 'ascii',
  comments: false,
  // The shebang of cmd/launcher.ts survives as the first line of the entry.
});
await bundle.close();
