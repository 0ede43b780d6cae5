// `launcher reload` and `launcher down`: act on the running launcher as a whole.
import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { finish } from '../exit.js';
import { controlOption } from '../options.js';
import { call, printProgress } from '../client.js';
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
