// What the launcher needs to outlive its own code, on top of libc.ts: execve in
// place (same pid, the fds it chose kept open), a memfd to hand its state to the
// next version, and the start time that tells a live pid from a recycled one.
// Each call returns a value or -errno; callers decide what a failure means.
import * as libc from './libc.js';
import { readProcStat } from './process.js';

export { pidfdOpen, pidfdGetfd, memfdCreate } from './libc.js';

/**
 * execve(2) with `env` as the environment: replaces this process's program, keeping its
 * pid and every fd without FD_CLOEXEC. Returns only on failure, with -errno.
 */
export function execve(file: string, argv: readonly string[], env: Readonly<Record<string, string | undefined>>): number {
  const envp = Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  return libc.execve(file, argv, envp);
}

/**
 * The start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat), or
 * null when no such process exists. With the pid it names one process for ever: a
 * recycled pid has another start time.
 */
export function processStartTime(pid: number): number | null {
  const stat = readProcStat(pid);
  return stat && Number.isFinite(stat.startTime) ? stat.startTime : null;
}
