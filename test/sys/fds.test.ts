// sys/fds: after markStrayFdsCloexec a spawned child holds no fd the launcher inherited or
// opened without CLOEXEC, except the ones it chose to keep.
import { openSync, closeSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { listOpenFds } from '../../src/sys/fds.js';
import { buildForFixtures, fixturePath } from '../helpers/build-fixtures.js';
import { ok } from '../helpers/sys.js';
import { E } from '../../src/sys/errno.js';

interface Report {
  stray: number;
  kept: number;
  changed: number[];
  childFds: number[];
  ownFds: number[];
}

let build: { dir: string; cleanup: () => void };
beforeAll(() => {
  build = buildForFixtures(['src/sys/fds.ts']);
});
afterAll(() => build.cleanup());

async function runFixture(mode: 'hygiene' | 'control'): Promise<Report> {
  const result = await execa(process.execPath, [fixturePath('fds-fixture.mjs'), build.dir, mode], { timeout: 10_000 });
  return JSON.parse(result.stdout) as Report;
}

describe('listOpenFds', () => {
  it('lists this process fds, including a freshly opened one, and not after closing it', () => {
    const fd = openSync('/dev/null', 'r');
    try {
      const fds = ok(listOpenFds());
      expect(fds).toEqual([...fds].sort((a, b) => a - b));
      expect(fds).toEqual(expect.arrayContaining([0, 1, 2, fd]));
    } finally {
      closeSync(fd);
    }
    expect(ok(listOpenFds())).not.toContain(fd);
  });

  it('throws LAUNCHER_SYSCALL for a process that does not exist', () => {
    expect(listOpenFds(2 ** 30)).toBe(-E.ENOENT);
  });
});

describe('markStrayFdsCloexec', () => {
  it('control: without it, a child inherits the stray fd', async () => {
    const report = await runFixture('control');
    expect(report.childFds).toContain(report.stray);
    expect(report.childFds).toContain(report.kept);
  });

  it('marks stray fds CLOEXEC so a child holds only 0-2 and the kept fd', async () => {
    const report = await runFixture('hygiene');
    expect(report.changed).toContain(report.stray);
    expect(report.changed).not.toContain(report.kept);
    expect(report.changed.every((fd) => fd > 2)).toBe(true);
    expect(report.ownFds).toContain(report.stray); // marked, not closed
    expect(report.childFds).toEqual([0, 1, 2, report.kept]);
  });
});
