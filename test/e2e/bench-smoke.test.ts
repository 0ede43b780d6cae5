// Smoke test for the benchmark driver: a quick run of the launcher peers (and
// Server::Starter when installed) into a temp folder must exit 0 and write
// RESULTS.md, results.json and one SVG timeline per peer it ran.
import { execa } from 'execa';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTmpDir } from '../helpers/tmp.js';
import { ROOT } from '../helpers/launcher.js';

interface BenchResults {
  restart: { name: string; requests: number; failed: number; restarts: { ms: number; readyMs: number }[]; svg: string }[];
  skipped: { name: string; reason: string }[];
  footprint: { bareNodeKiB: number; launcher: { units: number; mode: string; rssKiB: number }[] };
  cli: { status: { median: number }; nodeE0: { median: number } };
}

describe('bench/run.mjs --quick', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => {
    cleanup?.();
    cleanup = undefined;
  });

  it('runs the launcher peers, skips missing tools cleanly, and writes its results', async () => {
    const tmp = makeTmpDir('launcher-bench-smoke-');
    cleanup = () => rmSync(tmp.dir, { recursive: true, force: true });
    const out = path.join(tmp.dir, 'out');
    // PM2 and the naive peer are left out to stay well under a minute; --no-install
    // keeps the run off the network. Server::Starter runs only if start_server exists.
    const r = await execa(
      process.execPath,
      ['bench/run.mjs', '--quick', '--no-install', '--out', out, '--peers', 'launcher-overlap,launcher-stop-first,server-starter,footprint,cli'],
      { cwd: ROOT, reject: false, timeout: 110_000 },
    );
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as BenchResults;
    const ran = results.restart.map((p) => p.name);
    expect(ran).toEqual(expect.arrayContaining(['launcher-overlap', 'launcher-stop-first']));
    for (const skipped of results.skipped) {
      expect(skipped.name).toBe('server-starter');
      expect(r.stdout).toContain(`skipping server-starter: ${skipped.reason}`);
    }
    for (const peer of results.restart) {
      expect(peer.requests).toBeGreaterThan(100);
      expect(peer.restarts.length).toBe(3);
      expect(existsSync(path.join(out, peer.svg))).toBe(true);
      expect(readFileSync(path.join(out, peer.svg), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
      if (peer.name.startsWith('launcher')) {
        expect(peer.failed).toBe(0);
        for (const t of peer.restarts) expect(t.readyMs).toBeGreaterThan(0);
      }
    }
    expect(results.footprint.bareNodeKiB).toBeGreaterThan(1000);
    expect(results.footprint.launcher.map((f) => f.units)).toEqual([1, 100, 10]);
    expect(results.cli.status.median).toBeGreaterThan(0);
    const md = readFileSync(path.join(out, 'RESULTS.md'), 'utf8');
    expect(md).toContain('## Goals');
    expect(md).toContain('![launcher (overlap)](restart-launcher-overlap.svg)');
  }, 120_000);
});
