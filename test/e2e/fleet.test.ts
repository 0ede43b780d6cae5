// End to end: a unit with `instances = 4` through the real CLI — four children
// sharing one socket, each told its LAUNCHER_INSTANCE, a rolling restart under
// load that refuses nothing, and a broken new version that stops the roll-out
// while the old instances keep serving.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { childrenOf, cleanupLaunchers, FIXTURES, httpGet, makeUnitDir, startLauncher, statusJson, type RunningLauncher } from '../helpers/launcher.js';
import { startLoad } from '../helpers/load.js';

const SERVICE = path.join(FIXTURES, 'e2e/fleet/fleet-service.mjs');
const INSTANCES = 4;

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  cleanups.splice(0).forEach((c) => c());
});

/** A launcher running `web` with 4 instances of the fleet service on a fresh port; MODE_FILE starts as "ok". */
async function startFleet(extraService = ''): Promise<{ launcher: RunningLauncher; port: number; modeFile: string }> {
  const port = await freePort();
  const tmp = makeUnitDir({});
  cleanups.push(tmp.cleanup);
  const modeFile = path.join(tmp.dir, 'mode');
  writeFileSync(modeFile, 'ok\n');
  writeFileSync(
    path.join(tmp.unitsDir, 'web.toml'),
    `[service]
exec = ["node", ${JSON.stringify(SERVICE)}]
ready = "notify"
instances = ${INSTANCES}
stop_timeout = "5s"
env = { MODE_FILE = ${JSON.stringify(modeFile)} }
${extraService}
[[socket]]
listen = "127.0.0.1:${port}"
name = "http"
`,
  );
  const launcher = await startLauncher(tmp.unitsDir);
  await waitFor(async () => (await statusJson(launcher)).units[0]?.instances.every((i) => i.state === 'running'), {
    timeoutMs: 20_000,
    what: 'all 4 instances running',
  });
  return { launcher, port, modeFile };
}

/** GET `urlPath` on fresh connections, 8 at a time, until `enough(seen)`; returns every body seen (counts). */
async function sample(port: number, urlPath: string, enough: (seen: Map<string, number>) => boolean, what: string): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  await waitFor(
    async () => {
      const replies = await Promise.all(Array.from({ length: 8 }, () => httpGet(port, urlPath)));
      for (const r of replies) {
        expect(r.status).toBe(200);
        const body = r.body.trim();
        seen.set(body, (seen.get(body) ?? 0) + 1);
      }
      return enough(seen);
    },
    { timeoutMs: 20_000, intervalMs: 0, what },
  );
  return seen;
}

/** Distinct pids among "<pid>" or "<pid> <instance>" bodies. */
function pidsOf(seen: Map<string, number>): Set<number> {
  return new Set([...seen.keys()].map((body) => Number(body.split(' ')[0])));
}

async function runningPids(launcher: RunningLauncher): Promise<number[]> {
  const unit = (await statusJson(launcher)).units[0]!;
  return unit.instances.filter((i) => i.state === 'running').map((i) => i.pid!);
}

describe('instances = 4', () => {
  it('serves from 4 distinct children, each told its LAUNCHER_INSTANCE 0..3 as status reports', async () => {
    const { launcher, port } = await startFleet();

    const status = await statusJson(launcher);
    const unit = status.units[0]!;
    expect(unit.state).toBe('running');
    expect(unit.instances.map((i) => i.index)).toEqual([0, 1, 2, 3]);
    const pidByIndex = unit.instances.map((i) => i.pid);
    expect(new Set(pidByIndex).size).toBe(INSTANCES);
    expect(new Set(childrenOf(launcher.pid))).toEqual(new Set(pidByIndex));

    // The kernel spreads fresh connections over the 4 children: keep asking until each answered.
    const seen = await sample(port, '/whoami', (s) => pidsOf(s).size === INSTANCES, '4 distinct pids answering');
    expect(pidsOf(seen)).toEqual(new Set(pidByIndex));
    for (const body of seen.keys()) {
      const [pid, instance] = body.split(' ').map(Number);
      expect(pidByIndex[instance!], `pid ${pid} says LAUNCHER_INSTANCE=${instance}`).toBe(pid);
    }
  });

  it('rolls a restart through all 4 under load with no failed request and ends with 4 new pids', async () => {
    const { launcher, port } = await startFleet();
    const oldPids = await runningPids(launcher);

    const load = startLoad(port, { concurrency: 4 });
    await waitFor(() => load.report.ok >= 20, { timeoutMs: 15_000, what: 'load flowing before the restart' });
    const restart = await launcher.cli(['restart', 'web']);
    await waitFor(() => load.report.ok >= 20 + 20, { timeoutMs: 15_000, what: 'load flowing after the restart' });
    const report = await load.stop();

    expect(restart.exitCode, restart.stderr).toBe(0);
    expect(report.errors).toEqual([]);
    expect(report.failed).toBe(0);
    // One line per instance: "web[i]: OLD → NEW, ready in ..."
    const swaps = restart.stdout.split('\n').filter((l) => /^web\[\d\]: \d+ → \d+/.test(l));
    expect(swaps).toHaveLength(INSTANCES);

    const newPids = await runningPids(launcher);
    expect(newPids).toHaveLength(INSTANCES);
    expect(new Set(newPids).size).toBe(INSTANCES);
    expect(newPids.filter((p) => oldPids.includes(p))).toEqual([]);
    expect(new Set(childrenOf(launcher.pid))).toEqual(new Set(newPids));
    // The load saw both generations: the swap happened while it ran.
    const served = pidsOf(report.bodies);
    expect(oldPids.some((p) => served.has(p))).toBe(true);
    expect(newPids.some((p) => served.has(p))).toBe(true);
    // Afterwards only new children answer.
    const after = await sample(port, '/', (s) => pidsOf(s).size === INSTANCES, '4 new pids answering');
    expect(pidsOf(after)).toEqual(new Set(newPids));
  });

  it('stops the roll-out when the new version exits at start-up: restart exits 1, the old instances keep serving', async () => {
    const { launcher, port, modeFile } = await startFleet();
    const oldPids = await runningPids(launcher);
    writeFileSync(modeFile, 'broken\n'); // only children started from now on read it

    const restart = await launcher.cli(['restart', 'web']);
    expect(restart.exitCode).toBe(1);
    expect(restart.stderr).toMatch(/exited before ready \(exit status 3\)/);
    expect(restart.stderr).toContain('broken version: exiting at start-up');

    const pidsNow = await runningPids(launcher);
    expect(pidsNow.filter((p) => oldPids.includes(p)).length).toBeGreaterThanOrEqual(3);
    // The failed child is gone: the launcher's children are exactly the running instances.
    expect(new Set(childrenOf(launcher.pid))).toEqual(new Set(pidsNow));
    const after = await sample(port, '/', (s) => pidsOf(s).size >= 3, '≥ 3 old pids answering after the failed restart');
    const answering = [...pidsOf(after)];
    expect(answering.filter((p) => oldPids.includes(p)).length).toBeGreaterThanOrEqual(3);
    expect(answering.every((p) => pidsNow.includes(p))).toBe(true);
  });

  it('stops the roll-out when the new version never gets ready within ready_timeout, then rolls out once fixed', async () => {
    const { launcher, port, modeFile } = await startFleet('ready_timeout = "1s"');
    const oldPids = await runningPids(launcher);
    writeFileSync(modeFile, 'never-ready\n');

    const restart = await launcher.cli(['restart', 'web']);
    expect(restart.exitCode).toBe(1);
    expect(restart.stderr).toContain('missed ready_timeout');
    expect(restart.stderr).toContain('the old child keeps serving');

    const pidsNow = await runningPids(launcher);
    expect(pidsNow.filter((p) => oldPids.includes(p)).length).toBeGreaterThanOrEqual(3);
    // The child that never got ready was stopped, not left behind.
    await waitFor(() => childrenOf(launcher.pid).length === INSTANCES, { timeoutMs: 10_000, what: 'the unready child gone' });
    expect(new Set(childrenOf(launcher.pid))).toEqual(new Set(pidsNow));
    const after = await sample(port, '/', (s) => pidsOf(s).size >= 3, '≥ 3 old pids answering after the failed restart');
    expect([...pidsOf(after)].filter((p) => oldPids.includes(p)).length).toBeGreaterThanOrEqual(3);

    // Fixed: the next restart replaces every instance.
    writeFileSync(modeFile, 'ok\n');
    const retry = await launcher.cli(['restart', 'web']);
    expect(retry.exitCode, retry.stderr).toBe(0);
    const fixed = await runningPids(launcher);
    expect(fixed).toHaveLength(INSTANCES);
    expect(fixed.filter((p) => oldPids.includes(p))).toEqual([]);
  });
});
