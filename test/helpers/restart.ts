// Shared by the restart-under-load tests: a unit for one web service, a
// launcher running it, and the check that N restarts under load lose nothing.
import { afterEach, expect } from 'vitest';
import { cleanupLaunchers, httpGet, makeUnitDir, startLauncher, unitStatus, waitForHttp, type RunningLauncher } from './launcher.js';
import { waitFor } from './wait.js';
import { restartProblems, restartUnderLoad } from './load.js';
import { freePort } from './ports.js';

export const RESTARTS = 20;

const cleanups: (() => void)[] = [];

/** Call once per test file: stops the launchers and removes the unit folders after each test. */
export function cleanUpAfterEach(): void {
  afterEach(async () => {
    await cleanupLaunchers();
    for (const c of cleanups.splice(0)) c();
  });
}

export function webUnit(exec: string[], port: number, extra = ''): string {
  return [
    '[service]',
    `exec = ${JSON.stringify(exec)}`,
    'ready = "notify"',
    'ready_timeout = "20s"',
    'stop_timeout = "10s"',
    extra,
    '[[socket]]',
    `listen = "127.0.0.1:${port}"`,
    '',
  ].join('\n');
}

export async function upWith(exec: string[], extra = ''): Promise<{ launcher: RunningLauncher; port: number }> {
  const port = await freePort();
  const units = makeUnitDir({ web: webUnit(exec, port, extra) });
  cleanups.push(units.cleanup);
  const launcher = await startLauncher(units.unitsDir);
  await waitForHttp(port);
  // Serving is not yet ready in the launcher's eyes: a restart before READY=1 lands is refused as busy.
  await waitFor(async () => (await unitStatus(launcher, 'web')).state === 'running', { timeoutMs: 15_000, what: 'web running' });
  return { launcher, port };
}

/**
 * Restarts `web` RESTARTS times through the CLI under load; every restart
 * must swap cleanly with no failed request, and the last new pid must serve.
 */
export async function expectLosslessRestarts(launcher: RunningLauncher, port: number): Promise<void> {
  const { runs, report } = await restartUnderLoad(port, RESTARTS, () => launcher.cli(['restart', 'web']));
  expect(restartProblems(runs, report, RESTARTS)).toEqual([]);
  const lastPid = runs[runs.length - 1]?.swaps[0]?.newPid;
  expect((await httpGet(port)).body.trim().split(' ')[0]).toBe(String(lastPid));
}
