// The launcher keeps V8's young generation from growing (src/entrypoint/young-generation.ts):
// checked on the running Node, since it relies on V8 reading the flag at run time.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { userSizedYoungGeneration } from '../../src/entrypoint/young-generation.js';
import { ROOT } from '../helpers/launcher.js';

const MODULE = pathToFileURL(path.join(ROOT, 'dist/src/entrypoint/young-generation.js')).href;

/** The young generation's size (MiB) in a fresh node after a burst of allocation with survivors. */
async function youngAfterBurst(cap: boolean, nodeArgs: string[] = []): Promise<number> {
  const script = `
    const { capYoungGeneration } = await import(${JSON.stringify(MODULE)});
    const v8 = await import('node:v8');
    ${cap ? 'capYoungGeneration();' : ''}
    const keep = [];
    for (let r = 0; r < 40; r++) { const a = []; for (let i = 0; i < 200000; i++) a.push({ i, s: 'x' + i }); keep.push(a.slice(0, 5000)); }
    console.log(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576);`;
  const r = await execa(process.execPath, [...nodeArgs, '--input-type=module', '-e', script]);
  return Number(r.stdout.trim());
}

describe('young generation', () => {
  it('does not grow past its initial size once capped (and does without the cap)', async () => {
    expect(await youngAfterBurst(false)).toBeGreaterThan(4);
    expect(await youngAfterBurst(true)).toBeLessThanOrEqual(2);
  }, 120_000); // two node runs of a deliberate allocation burst: capped, it scavenges often, which is slow under load

  it('is left to a user who sized it', async () => {
    expect(userSizedYoungGeneration(['--max-semi-space-size=8'], '')).toBe(true);
    expect(userSizedYoungGeneration([], '--max_semi_space_size=8 --enable-source-maps')).toBe(true);
    expect(userSizedYoungGeneration([], '--semi-space-growth-factor=4')).toBe(true);
    expect(userSizedYoungGeneration(['--enable-source-maps'], '--max-old-space-size=100')).toBe(false);
    expect(await youngAfterBurst(true, ['--max-semi-space-size=8'])).toBeGreaterThan(4);
  }, 120_000);
});
