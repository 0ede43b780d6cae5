// End to end: `launcher status --check`, the health probe for container HEALTHCHECKs
// and Kubernetes exec probes: exit 0 / 1 printing nothing, 3 with no launcher.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupLaunchers, cli, makeUnitDir, startLauncher, unitStatus } from '../helpers/launcher.js';
import { freePort } from '../helpers/ports.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  for (const c of cleanups.splice(0)) c();
});

const SLEEPER = '[service]\nexec = ["sleep", "1000"]\n';

describe('launcher status --check', () => {
  it('exits 0 and prints nothing while every unit is running or waiting for its first connection', async () => {
    const port = await freePort();
    const units = makeUnitDir({
      busy: SLEEPER,
      lazy: `${SLEEPER}start = "on-demand"\n[[socket]]\nlisten = "127.0.0.1:${port}"\n`,
    });
    cleanups.push(units.cleanup);
    const launcher = await startLauncher(units.unitsDir);
    await waitFor(async () => (await unitStatus(launcher, 'busy')).state === 'running', { timeoutMs: 15_000, what: 'busy running' });
    expect((await unitStatus(launcher, 'lazy')).state).toBe('waiting');

    const r = await launcher.cli(['status', '--check']);
    expect(r).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('exits 1 and prints nothing when a unit has failed (and 0 for the healthy unit alone)', async () => {
    const units = makeUnitDir({
      busy: SLEEPER,
      broken: '[service]\nexec = ["sh", "-c", "exit 3"]\nrestart = "no"\n',
    });
    cleanups.push(units.cleanup);
    const launcher = await startLauncher(units.unitsDir);
    await waitFor(async () => (await unitStatus(launcher, 'broken')).state === 'failed', { timeoutMs: 15_000, what: 'broken failed' });
    await waitFor(async () => (await unitStatus(launcher, 'busy')).state === 'running', { timeoutMs: 15_000, what: 'busy running' });

    expect(await launcher.cli(['status', '--check'])).toEqual({ exitCode: 1, stdout: '', stderr: '' });
    expect(await launcher.cli(['status', '--check', 'broken'])).toEqual({ exitCode: 1, stdout: '', stderr: '' });
    expect(await launcher.cli(['status', '--check', 'busy'])).toEqual({ exitCode: 0, stdout: '', stderr: '' });

    // A unit stopped by hand is not serving either.
    expect((await launcher.cli(['stop', 'busy'])).exitCode).toBe(0);
    expect((await launcher.cli(['status', '--check', 'busy'])).exitCode).toBe(1);
  });

  it('exits 3 when no launcher answers on the control socket', async () => {
    const tmp = makeTmpDir('launcher-check-');
    cleanups.push(tmp.cleanup);
    const r = await cli(['status', '--check', '--control', path.join(tmp.dir, 'none', 'control.sock')]);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('');
  });
});
