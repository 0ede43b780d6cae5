// End to end: `launcher restart` of gunicorn (Debian's, honouring LISTEN_FDS
// and sending its own READY=1 from the master) under load loses no request.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/launcher.js';
import { cleanUpAfterEach, expectLosslessRestarts, upWith } from '../helpers/restart.js';
import { requirePeers } from '../helpers/peers.js';

const RESTART_FIXTURES = path.join(FIXTURES, 'e2e/restart');
cleanUpAfterEach();

describe('restart under load, gunicorn', () => {
  it('gunicorn (its own READY=1 accepted): 20 restarts, 0 failed requests', async (context) => {
    requirePeers(context, 'gunicorn');
    const { launcher, port } = await upWith(['gunicorn', '--workers', '1', '--graceful-timeout', '5', '--chdir', RESTART_FIXTURES, 'wsgi_app:app']);
    await expectLosslessRestarts(launcher, port);
    // gunicorn's STATUS= arrived with its READY=1 from the master, the service's own pid.
    const status = JSON.parse((await launcher.cli(['status', 'web', '--json'])).stdout) as { units: { state: string; statusText: string | null }[] };
    expect(status.units[0]?.state).toBe('running');
    expect(status.units[0]?.statusText).toBe('Gunicorn arbiter booted');
  }, 90_000);

});
