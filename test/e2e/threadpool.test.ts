// The bin (dist/cmd/launcher.cjs) sizes libuv's threadpool one thread larger than asked,
// for the fd watcher's poll that holds one for the launcher's life (bench/threadpool.mjs),
// and its services still see UV_THREADPOOL_SIZE as it was given, or not at all.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, cleanupLaunchers, makeUnitDir, startLauncher } from '../helpers/launcher.js';
import { collectLines } from '../helpers/output-lines.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  await cleanupLaunchers();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const UNIT = '[service]\nexec = ["sh", "-c", "echo pool=${UV_THREADPOOL_SIZE-unset}; exec sleep 60"]\n';

function unitDir(): string {
  const dir = makeUnitDir({ env: UNIT });
  cleanups.push(dir.cleanup);
  return dir.unitsDir;
}

describe('the threadpool of `launcher up`', () => {
  it('is not passed on to services: they see UV_THREADPOOL_SIZE unset, or as the launcher was given it', async () => {
    const plain = await startLauncher(unitDir());
    await plain.waitForLine(/pool=unset/);
    const given = await startLauncher(unitDir(), { env: { UV_THREADPOOL_SIZE: '2' } });
    await given.waitForLine(/pool=2$/);
  });

  it('has one thread more through the bin than through the ES entry it loads', async () => {
    const threads = (pid: number): number => readdirSync(`/proc/${pid}/task`).length;
    const viaBin = await startLauncher(unitDir());
    const units = unitDir();
    const direct = execa(process.execPath, [path.join(path.dirname(CLI), 'launcher.js'), 'up', '--units', units, '--control', path.join(path.dirname(units), 'c.sock')], {
      reject: false, buffer: false, stdin: 'ignore',
    });
    cleanups.push(async () => {
      direct.kill('SIGTERM');
      await direct;
    });
    await collectLines([direct.stdout, direct.stderr]).waitForLine(/pool=unset/);
    await waitFor(() => threads(viaBin.pid) === threads(direct.pid!) + 1, {
      what: `one more thread via the bin (${threads(viaBin.pid)} vs ${threads(direct.pid!)})`,
      timeoutMs: 5000,
    });
  });
});
