// The shipped CLI (dist/cmd/launcher.js, bundled by scripts/bundle.mjs) keeps the
// launcher out of the client verbs' way: the files a client verb loads statically
// never import koffi, execa, child_process or toml; those live in lazily imported
// chunks that only `up`/`run`/`check` load. Read from the built files, as shipped.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/launcher.js';

const DIR = path.dirname(CLI);
const staticImports = (file: string): string[] =>
  [...readFileSync(path.join(DIR, file), 'utf8').matchAll(/^import\s+(?:[^'"]*?\s+from\s+)?["']([^"']+)["'];?$/gm)].map((m) => m[1]!);
const dynamicImports = (file: string): string[] =>
  [...readFileSync(path.join(DIR, file), 'utf8').matchAll(/\bimport\(\s*["'](\.\/[^"']+)["']\s*\)/g)].map((m) => m[1]!);

/** Every local file the entry loads before any handler runs, and every module specifier they import. */
function staticGraph(entry: string): { files: Set<string>; specifiers: Set<string> } {
  const files = new Set<string>();
  const specifiers = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of staticImports(file)) {
      specifiers.add(spec);
      if (spec.startsWith('./')) visit(spec.slice(2));
    }
  };
  visit(entry);
  return { files, specifiers };
}

/**
 * What a client verb loads before its handler runs: the entry (which only turns on the
 * compile cache), the CLI it imports, and their static imports.
 */
function clientGraph(): { files: Set<string>; specifiers: Set<string> } {
  const files = new Set<string>();
  const specifiers = new Set<string>();
  for (const root of ['launcher.js', ...dynamicImports('launcher.js').map((spec) => spec.slice(2))]) {
    const g = staticGraph(root);
    g.files.forEach((f) => files.add(f));
    g.specifiers.forEach((x) => specifiers.add(x));
  }
  return { files, specifiers };
}

describe('the bundled CLI', () => {
  it('loads a handful of files for a client verb, none holding the launcher, koffi, execa, child_process or toml', () => {
    const { files, specifiers } = clientGraph();
    expect(files.size).toBeLessThanOrEqual(4);
    for (const banned of ['koffi', 'node:child_process', 'child_process']) expect([...specifiers]).not.toContain(banned);
    for (const file of files) {
      const text = readFileSync(path.join(DIR, file), 'utf8');
      expect(text, file).not.toMatch(/node_modules\/(execa|toml|koffi)\//);
      // koffi is required lazily (src/sys/libc.ts): not even that reference may reach a client verb.
      expect(text, file).not.toMatch(/["']koffi["']/);
      expect(text, file).not.toContain('function spawnService(');
    }
  });

  it('loads the launcher and the unit loader from lazily imported chunks that do hold them', () => {
    const client = clientGraph().files;
    const lazy = [...new Set([...client].flatMap((file) => dynamicImports(file).map((spec) => spec.slice(2))))].filter((file) => !client.has(file));
    expect(lazy.length).toBeGreaterThanOrEqual(2);
    for (const file of lazy) expect(existsSync(path.join(DIR, file)), file).toBe(true);
    const lazyText = lazy.map((file) => [...staticGraph(file).files].map((f) => readFileSync(path.join(DIR, f), 'utf8')).join('\n')).join('\n');
    expect(lazyText).toContain('function spawnService(');
    // The one place koffi is loaded: src/sys/libc.ts, on the first native call.
    expect(lazyText).toMatch(/\(["']koffi["']\)/);
    expect(lazyText).toMatch(/node_modules\/toml\//);
  });
});
