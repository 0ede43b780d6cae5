// End to end: `launcher restart` of gunicorn (Debian's, honouring LISTEN_FDS
// and sending its own READY=1 from the master) under load loses no request.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, cleanupLaunchers, httpGet, makeUnitDir, startLauncher, waitForHttp, type RunningLauncher } from './harness.js';
import { restartProblems, restartUnderLoad } from './load.js';
import { freePort } from '../helpers/ports.js';

const RESTART_FIXTURES = path.join(FIXTURES, 'e2e/restart');
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

describe('restart under load, gunicorn', () => {
  it('gunicorn (its own READY=1 accepted): 20 restarts, 0 failed requests', async () => {
    const { launcher, port } = await upWith(['gunicorn', '--workers', '1', '--graceful-timeout', '5', '--chdir', RESTART_FIXTURES, 'wsgi_app:app']);
    await expectLosslessRestarts(launcher, port);
    // gunicorn's STATUS= arrived with its READY=1 from the master, the service's own pid.
    const status = JSON.parse((await launcher.cli(['status', 'web', '--json'])).stdout) as { units: { state: string; statusText: string | null }[] };
    expect(status.units[0]?.state).toBe('running');
    expect(status.units[0]?.statusText).toBe('Gunicorn arbiter booted');
  }, 90_000);

});
