// End to end: `launcher restart` of the Node fixture under load (a fresh
// connection per request) loses no request, with handoff overlap and stop-first.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, cleanupLaunchers, httpGet, makeUnitDir, startLauncher, waitForHttp, type RunningLauncher } from './harness.js';
import { restartProblems, restartUnderLoad } from './load.js';
import { freePort } from '../helpers/ports.js';

const NODE_SERVICE = path.join(FIXTURES, 'e2e/http-service.mjs');
const RESTARTS = 20;

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  for (const c of cleanups.splice(0)) c();
});

function webUnit(exec: string[], port: number, extra = ''): string {
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

async function upWith(exec: string[], extra = ''): Promise<{ launcher: RunningLauncher; port: number }> {
  const port = await freePort();
  const units = makeUnitDir({ web: webUnit(exec, port, extra) });
  cleanups.push(units.cleanup);
  const launcher = await startLauncher(units.unitsDir);
  await waitForHttp(port);
  return { launcher, port };
}

/**
 * Restarts `web` RESTARTS times through the CLI under load; every restart
 * must swap cleanly with no failed request, and the last new pid must serve.
 */
async function expectLosslessRestarts(launcher: RunningLauncher, port: number): Promise<void> {
  const { runs, report } = await restartUnderLoad(port, RESTARTS, () => launcher.cli(['restart', 'web']));
  expect(restartProblems(runs, report, RESTARTS)).toEqual([]);
  const lastPid = runs[runs.length - 1]?.swaps[0]?.newPid;
  expect((await httpGet(port)).body.trim().split(' ')[0]).toBe(String(lastPid));
}

describe('restart under load, Node fixture', () => {
  it('Node fixture, instances = 1, handoff overlap: 20 restarts, 0 failed requests', async () => {
    const { launcher, port } = await upWith(['node', NODE_SERVICE], 'instances = 1\nhandoff = "overlap"');
    await expectLosslessRestarts(launcher, port);
  }, 90_000);

  it('Node fixture, handoff stop-first: 20 restarts, 0 failed requests (connections wait in the backlog)', async () => {
    const { launcher, port } = await upWith(['node', NODE_SERVICE], 'handoff = "stop-first"');
    await expectLosslessRestarts(launcher, port);
  }, 90_000);

});
