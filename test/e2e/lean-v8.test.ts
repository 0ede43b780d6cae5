// The bin turns V8's optimizing compilers off before the launcher's code runs
// (cmd/lean-v8.cts), unless node was given its own choice. Seen through V8's own trace:
// a client verb's start already has a function of the launcher's bundle hot enough to be
// optimized (`stringWidth`, as yargs lays out the verb's help), so with the user's
// `--turbofan` the trace shows it marked, and without it, it never is. (Node 24 may
// optimize a function of its own, e.g. path's isPosixPathSeparator, before the bin runs:
// only the launcher's function is looked for.)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/launcher.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** `launcher status` against a control socket nobody listens on, under `node --trace-opt ...nodeArgs`: V8's lines about stringWidth. */
async function optimizationsOfStatus(nodeArgs: string[]): Promise<string[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lean-v8-'));
  dirs.push(dir);
  const r = await execa(process.execPath, ['--trace-opt', ...nodeArgs, CLI, 'status', '--control', path.join(dir, 'none.sock')], { reject: false, all: true });
  expect(r.all).toMatch(/no launcher is listening/);
  return r.all.split('\n').filter((l) => /JSFunction stringWidth/.test(l));
}

describe('the bin and V8 tiers', () => {
  it('never optimizes the launcher\'s own hot function by default, and leaves a node given --turbofan as it was', async () => {
    expect(await optimizationsOfStatus(['--turbofan'])).not.toEqual([]);
    expect(await optimizationsOfStatus([])).toEqual([]);
  });
});
