// The last duty before the launcher exits: no process of ours may outlive it
// (as PID 1, exiting would SIGKILL the whole namespace mid-shutdown).
import { childPids, readProcStat } from '../sys/process.js';
import type { Logger } from './log.js';

/** How long SIGKILLed children get to be reaped before the launcher exits regardless. */
const AFTER_KILL_MS = 2000;

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
 * The orphans among `pids` that no stop signal has reached: those whose process
 * group leader is alive, i.e. that left their service's group (setsid, setpgid) and
 * so missed the stop_signal sent to it. Members of a service's own group (whose
 * leader, the service, is gone) already got it and must not get a second signal,
 * which many programs take as "quit now".
 */
function unsignalledOrphans(pids: readonly number[], ownPids: ReadonlySet<number>): number[] {
  return pids.filter((pid) => {
    if (ownPids.has(pid)) return false;
    const stat = readProcStat(pid);
    if (!stat || stat.state === 'Z' || ownPids.has(stat.pgrp)) return false;
    const leader = readProcStat(stat.pgrp);
    return leader !== undefined && leader.state !== 'Z';
  });
}

/**
 * Waits until the launcher has no child processes left: its services and any
 * orphan re-parented to it (a grandchild finishing its own shutdown). An orphan
 * in a process group of its own is sent SIGTERM once, as systemd does with what
 * is left in a stopped service's cgroup (see unsignalledOrphans). After
 * `graceMs`, or as soon as `hurry()` turns true (a second SIGTERM), every child
 * left is SIGKILLed, and so is any orphan re-parented later (a daemon that left
 * its service's process group escapes killGroups); the reaper collects them.
 * Gives up, with a warning, AFTER_KILL_MS after the first SIGKILL.
 * Resolves true when nothing had to be SIGKILLed, false otherwise.
 */
export async function waitForChildren(
  ownPids: ReadonlySet<number>,
  logger: Logger,
  graceMs = 10_000,
  hurry: () => boolean = () => false,
): Promise<boolean> {
  const deadline = Date.now() + graceMs;
  let killedAt: number | undefined;
  const termed = new Set<number>();
  for (;;) {
    const left = childPids();
    if (left.length === 0 && ownPids.size === 0) return killedAt === undefined;
    const now = Date.now();
    const toTerm = unsignalledOrphans(left, ownPids).filter((pid) => !termed.has(pid));
    if (toTerm.length > 0 && killedAt === undefined) {
      logger.event('info', `sending SIGTERM to orphaned process${toTerm.length === 1 ? '' : 'es'} ${toTerm.join(', ')}`);
      for (const pid of toTerm) {
        termed.add(pid);
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone meanwhile
        }
      }
    }
    if (killedAt === undefined && (now > deadline || hurry())) {
      if (left.length > 0) {
        const why = now > deadline ? 'outlived their services' : 'are still here';
        logger.event('warn', `processes ${left.join(', ')} ${why}, killing them`);
      }
      killedAt = now;
    }
    if (killedAt !== undefined) {
      if (now - killedAt > AFTER_KILL_MS) {
        // A service libuv reaped whose exit was not delivered yet is in ownPids only.
        const still = [...new Set([...left, ...ownPids])];
        logger.event('warn', `process${still.length === 1 ? '' : 'es'} ${still.join(', ')} still here after SIGKILL, exiting anyway`);
        return false;
      }
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
