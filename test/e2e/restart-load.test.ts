// End to end: `launcher restart` under load (a fresh connection per request)
// loses no request for a python3-systemd service, and a slow request in
// flight completes. (gunicorn: restart-gunicorn.test.ts; the Node fixture:
// restart-node-load.test.ts.)
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, httpGet } from '../helpers/launcher.js';
import { parseSwaps } from '../helpers/load.js';
import { cleanUpAfterEach, expectLosslessRestarts, upWith } from '../helpers/restart.js';

const RESTART_FIXTURES = path.join(FIXTURES, 'e2e/restart');
const NODE_SERVICE = path.join(FIXTURES, 'e2e/http-service.mjs');
cleanUpAfterEach();

describe('restart under load', () => {
  it('python3-systemd service: 20 restarts, 0 failed requests', async () => {
    const { launcher, port } = await upWith(['/usr/bin/python3', path.join(RESTART_FIXTURES, 'py-http.py')]);
    await expectLosslessRestarts(launcher, port);
  }, 90_000);

  it('a slow request in flight during a restart completes with 200 from the old child', async () => {
    const { launcher, port } = await upWith(['/usr/bin/python3', path.join(RESTART_FIXTURES, 'py-http.py')]);
    const oldPid = (await httpGet(port)).body.trim().split(' ')[0];
    const sentAt = Date.now();
    const slow = httpGet(port, '/slow', '127.0.0.1', 15_000);
    await launcher.waitForLine(new RegExp(`^web\\[${oldPid}\\] slow request started$`));
    const r = await launcher.cli(['restart', 'web']);
    const restartedAt = Date.now();
    expect(r.exitCode, r.stderr).toBe(0);
    const [swap] = parseSwaps(r.stdout);
    expect(swap?.oldPid).toBe(Number(oldPid));
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body.trim()).toBe(`${oldPid}`);
    // The restart finished only once the old child had answered (it sleeps 2 s
    // from after the request was sent) and then drained and exited by itself.
    expect(restartedAt - sentAt).toBeGreaterThanOrEqual(2000);
    await launcher.waitForLine(new RegExp(`^web\\[${oldPid}\\] drained$`));
    await launcher.waitForLine(new RegExp(`^web\\[${oldPid}\\]: .*stopping -> inactive \\(stopped \\(exit status 0\\)\\)`));
  }, 60_000);
});
