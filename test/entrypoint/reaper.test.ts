// Reaper: orphans re-parented to a subreaper / PID 1 are reaped, while execa's own
// children are never stolen (every execa promise resolves with its real exit code).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { buildForFixtures, fixturePath } from '../helpers/build-fixtures.js';

interface Report {
  pid: number;
  isPid1: boolean;
  subreaper: boolean;
  orphanShellExit: number;
  expected: number[];
  got: number[];
  reaped: number;
  zombies: number;
  children: number;
}

let build: { dir: string; cleanup: () => void };
beforeAll(() => {
  build = buildForFixtures(['src/entrypoint/reaper.ts']);
});
afterAll(() => build.cleanup());

async function runFixture(options: object, wrapper: string[] = []): Promise<Report> {
  const argv = [...wrapper, process.execPath, fixturePath('reaper-fixture.mjs'), build.dir, JSON.stringify(options)];
  const result = await execa(argv[0]!, argv.slice(1), { timeout: 20_000, reject: false });
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  return JSON.parse(result.stdout) as Report;
}

describe('Reaper', () => {
  it('as subreaper, reaps 50 orphans while 50 execa children keep their exit codes (SIGCHLD only)', async () => {
    // A sweep interval far beyond the test proves the SIGCHLD path reaps on its own.
    const report = await runFixture({ orphans: 50, owned: 50, sweepIntervalMs: 600_000 });
    expect(report.isPid1).toBe(false);
    expect(report.subreaper).toBe(true);
    expect(report.orphanShellExit).toBe(0);
    expect(report.got).toEqual(report.expected);
    expect(report.reaped).toBe(50);
    expect(report.zombies).toBe(0);
    expect(report.children).toBe(0);
  });

  it('without a reaper the same orphans stay zombies (the control run)', async () => {
    const report = await runFixture({ orphans: 20, owned: 5, reaper: false });
    expect(report.got).toEqual(report.expected);
    expect(report.zombies).toBe(20);
  });

  it('as PID 1 of a fresh pid namespace, reaps every orphan and steals no execa child', async () => {
    const report = await runFixture({ orphans: 50, owned: 50, sweepIntervalMs: 200 }, [
      'unshare',
      '--pid',
      '--fork',
      '--mount-proc',
    ]);
    expect(report.pid).toBe(1);
    expect(report.isPid1).toBe(true);
    expect(report.got).toEqual(report.expected);
    expect(report.reaped).toBe(50);
    expect(report.zombies).toBe(0);
    expect(report.children).toBe(0);
  });
});
