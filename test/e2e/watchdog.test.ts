// End to end: `watchdog = "1s"` through the real CLI — the service is told
// WATCHDOG_USEC/WATCHDOG_PID, and when its WATCHDOG=1 pings stop it is killed
// and restarted within two intervals of its last ping, while a child that
// keeps pinging is left alone.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { cleanupLaunchers, FIXTURES, makeUnitDir, startLauncher, statusJson } from '../helpers/launcher.js';

const SERVICE = path.join(FIXTURES, 'e2e/fleet/watchdog-service.mjs');
const INTERVAL_MS = 1000;

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  cleanups.splice(0).forEach((c) => c());
});

interface LogRecord {
  time: string;
  source: 'launcher' | 'child';
  unit?: string;
  level?: string;
  message?: string;
  text?: string;
  pid?: number;
}

const parse = (line: string): LogRecord => JSON.parse(line) as LogRecord;

describe('watchdog', () => {
  it('passes WATCHDOG_USEC/WATCHDOG_PID and restarts a service whose pings stop within 2 intervals of the last one', async () => {
    const tmp = makeUnitDir({});
    cleanups.push(tmp.cleanup);
    const stopDir = path.join(tmp.dir, 'stop');
    mkdirSync(stopDir);
    writeFileSync(
      path.join(tmp.unitsDir, 'dog.toml'),
      `[service]
exec = ["node", ${JSON.stringify(SERVICE)}]
ready = "notify"
watchdog = "1s"
env = { STOP_DIR = ${JSON.stringify(stopDir)} }
`,
    );
    // JSON logs carry the launcher's own timestamps, so timing does not depend on when the test reads them.
    const launcher = await startLauncher(tmp.unitsDir, { args: ['--log-format', 'json'] });

    const envLine = parse(await launcher.waitForLine(/"text":"watchdog env /));
    const oldPid = envLine.pid!;
    expect(envLine.text).toBe(`watchdog env WATCHDOG_USEC=1000000 WATCHDOG_PID=${oldPid} pid=${oldPid} interval=${INTERVAL_MS}`);
    await waitFor(async () => (await statusJson(launcher)).units[0]!.state === 'running', { what: 'dog running' });
    expect((await statusJson(launcher)).units[0]!.pids).toEqual([oldPid]);

    writeFileSync(path.join(stopDir, String(oldPid)), '');
    const silent = parse(await launcher.waitForLine(/"text":"stopped pinging; last ping at \d+"/));
    const lastPing = Number(/last ping at (\d+)/.exec(silent.text!)![1]);

    const timeout = parse(await launcher.waitForLine(new RegExp(`"message":"#0: watchdog timeout[^"]*".*"pid":${oldPid}`)));
    expect(timeout.level).toBe('error');
    const respawn = parse(await launcher.waitForLine(/"message":"#0: backoff -> starting \(restart #1; spawned pid \d+\)"/));
    const newPid = respawn.pid!;
    expect(newPid).not.toBe(oldPid);
    const killedAfter = Date.parse(timeout.time) - lastPing;
    const restartedAfter = Date.parse(respawn.time) - lastPing;
    expect(killedAfter).toBeGreaterThanOrEqual(INTERVAL_MS - 5); // not before a whole interval without a ping
    expect(restartedAfter).toBeLessThanOrEqual(2 * INTERVAL_MS);

    // The new child is told its own pid, and keeps running past an interval because it pings.
    const newEnv = parse(await launcher.waitForLine(new RegExp(`"pid":${newPid},"stream":"stdout","text":"watchdog env `)));
    expect(newEnv.text).toBe(`watchdog env WATCHDOG_USEC=1000000 WATCHDOG_PID=${newPid} pid=${newPid} interval=${INTERVAL_MS}`);
    const dog = await waitFor(
      async () => {
        const unit = (await statusJson(launcher)).units[0]!;
        const instance = unit.instances[0]!;
        return instance.state === 'running' && instance.forMs > 1.5 * INTERVAL_MS ? instance : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'the new child running for more than an interval' },
    );
    expect(dog.pid).toBe(newPid);
    expect(dog.restarts).toBe(1);
    expect(dog.lastExit?.signal).toBe('SIGABRT');
    expect(launcher.lines.filter((l) => l.includes('watchdog timeout') && l.includes(`"pid":${newPid}`))).toEqual([]);
  });
});
