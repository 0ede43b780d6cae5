// End to end: `launcher restart` of the Node fixture under load (a fresh
// connection per request) loses no request, with handoff overlap and stop-first.
import path from 'node:path';
import { describe, it } from 'vitest';
import { FIXTURES } from '../helpers/launcher.js';
import { cleanUpAfterEach, expectLosslessRestarts, upWith } from '../helpers/restart.js';

const NODE_SERVICE = path.join(FIXTURES, 'e2e/http-service.mjs');
cleanUpAfterEach();

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
