// Re-renders RESULTS.md from a results.json (after a change to report.mjs, or
// to add a note) without rerunning the bench:
//   node bench/render.mjs [DIR] [--note TEXT]     (DIR defaults to bench/)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/paths.mjs';
import { renderResults } from './report.mjs';
import { acceptSection } from './accept.mjs';
import { upgradeSection } from './upgrade.mjs';

const { values, positionals } = parseArgs({ options: { note: { type: 'string' } }, allowPositionals: true });
const dir = path.resolve(positionals[0] ?? path.join(ROOT, 'bench'));
const results = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
if (values.note !== undefined) results.note = values.note;
writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
writeFileSync(path.join(dir, 'RESULTS.md'), renderResults(results) + acceptSection(results.accept) + upgradeSection(results.upgrade));
console.log(`wrote ${path.join(dir, 'RESULTS.md')}`);
