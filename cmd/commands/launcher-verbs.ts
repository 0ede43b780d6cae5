// `launcher reload`, `launcher down` and `launcher upgrade`: act on the running launcher as a whole.
import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { finish } from '../exit.js';
import { controlOption } from '../options.js';
import { call, printProgress } from '../client.js';
import { LauncherError } from '../../src/errors.js';
import type { DownResult } from '../../src/control/replies.js';

export const reload: CommandModule = {
  command: 'reload',
  describe: 'Re-read the unit directory and apply the difference (exit 2 if invalid; nothing changes)',
  builder: (y) => y.option('control', controlOption),
  handler: (argv) =>
    finish(async () => {
      const { summary } = await call(argv.control, 'reload', {}, printProgress);
      process.stdout.write(summary.length ? summary.join('\n') + '\n' : 'nothing changed\n');
    }),
};

export const down: CommandModule = {
  command: 'down',
  describe: 'Stop every service, close the sockets and end the launcher; returns once it is gone',
  builder: (y) =>
    y.option('control', controlOption).option('wait', {
      type: 'boolean',
      default: true,
      describe: 'Wait until the launcher has exited (--no-wait: return once it has begun stopping)',
    }),
  handler: (argv) =>
    finish(async () => {
      const reply = await call(argv.control, 'down', {}, printProgress);
      if (!argv.wait) {
        process.stdout.write('launcher is stopping\n');
        return;
      }
      return waitForExit(reply);
    }),
};

/** Polls until the launcher's pid is gone; exit 1 (with what is left) when it outlives its deadline. */
async function waitForExit(reply: DownResult): Promise<number> {
  const { pid, deadlineMs = 30_000, waitingFor = [] } = reply;
  if (pid === undefined) {
    // An older launcher does not say which pid to wait for.
    process.stdout.write('launcher is stopping\n');
    return 0;
  }
  const what = waitingFor.length ? `${waitingFor.join(', ')}, then the launcher (pid ${pid})` : `the launcher (pid ${pid})`;
  process.stdout.write(`stopping: waiting for ${what}, up to ${Math.ceil(deadlineMs / 1000)} s\n`);
  const deadline = Date.now() + deadlineMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.stderr.write(`launcher: the launcher (pid ${pid}) is still running ${Math.ceil(deadlineMs / 1000)} s after \`down\`\n`);
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  process.stdout.write('launcher stopped\n');
  return 0;
}

/** Whether `pid` exists (EPERM: it does, under another uid). A zombie counts as gone. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** How long `upgrade` waits for the new launcher to answer after the exec. */
const UPGRADE_ANSWER_MS = 60_000;

export const upgrade: CommandModule = {
  command: 'upgrade',
  describe: 'Replace the running launcher\'s code with the one installed at its path, in place (same pid, sockets and services)',
  builder: (y) => y.option('control', controlOption),
  handler: (argv) =>
    finish(async () => {
      const before = (await call(argv.control, 'status', {})) as { launcher?: { pid?: number; upgrades?: number; version?: string } };
      const pid = before.launcher?.pid;
      const upgrades = before.launcher?.upgrades ?? 0;
      const started = Date.now();
      try {
        // A reply means it was refused (busy, or the check failed): nothing changed.
        await call(argv.control, 'upgrade', {}, printProgress);
        return 1;
      } catch (error) {
        // The connection ends when the launcher execs; anything else is the refusal itself.
        if (!(error instanceof LauncherError && error.code === 'LAUNCHER_UNREACHABLE' && /closed the connection/.test(error.message))) throw error;
      }
      for (;;) {
        const now = (await call(argv.control, 'status', {}).catch(() => null)) as { launcher?: { pid?: number; upgrades?: number; version?: string } } | null;
        const l = now?.launcher;
        if (l && (l.upgrades ?? 0) > upgrades) {
          if (l.pid !== pid) throw new LauncherError('LAUNCHER_UPGRADE_FAILED', `the launcher answering now has pid ${l.pid}, not ${pid}`);
          process.stdout.write(`upgraded: launcher ${before.launcher?.version ?? '?'} → ${l.version ?? '?'}, pid ${pid} unchanged, in ${Date.now() - started} ms\n`);
          return 0;
        }
        if (Date.now() - started > UPGRADE_ANSWER_MS) {
          throw new LauncherError('LAUNCHER_UPGRADE_FAILED', `the launcher did not answer as upgraded within ${UPGRADE_ANSWER_MS / 1000} s of its exec`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }),
};
