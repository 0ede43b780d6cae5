// The last duty before the launcher exits: no process of ours may outlive it
// (as PID 1, exiting would SIGKILL the whole namespace mid-shutdown).
import { childPids } from '../sys/process.js';
import type { Logger } from './log.js';

/** SIGKILL the process group of every service the launcher spawned. */
export function killGroups(ownPids: ReadonlySet<number>): void {
  for (const pid of ownPids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Waits until the launcher has no child processes left: its services and any
 * orphan re-parented to it (a grandchild finishing its own shutdown). After
 * `graceMs` the stragglers are SIGKILLed; the reaper collects them.
 */
export async function waitForChildren(ownPids: ReadonlySet<number>, logger: Logger, graceMs = 10_000): Promise<void> {
  const deadline = Date.now() + graceMs;
  let killed = false;
  for (;;) {
    const left = childPids();
    if (left.length === 0 && ownPids.size === 0) return;
    if (Date.now() > deadline) {
      if (killed) {
        logger.event('warn', `processes ${left.join(', ')} are still here after SIGKILL, exiting anyway`);
        return;
      }
      logger.event('warn', `processes ${left.join(', ')} outlived their services, killing them`);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      killed = true;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
