// What the launcher needs to outlive its own code: execve in place (same pid, the
// fds it chose kept open), a memfd to hand its state to the next version, and
// pidfd_open/pidfd_getfd to take a socket from a dead launcher's live service.
// Each call returns a value or -errno (or throws only where noted); callers decide.
import { libc, orErrno, lastErrno, sysError } from './libc.js';
import { readProcStat } from './process.js';

const execveFn = libc.func('int execve(const char *path, const char **argv, const char **envp)');
const memfdCreateFn = libc.func('int memfd_create(const char *name, unsigned int flags)');
const syscallIntFn = libc.func('long syscall(long number, int a, int b, unsigned int c)');

const MFD_CLOEXEC = 1;
/** x86_64, arm64 and every architecture since 5.x share these numbers (they were added after the unification). */
const SYS_PIDFD_OPEN = 434;
const SYS_PIDFD_GETFD = 438;

/**
 * execve(2): replaces this process's program, keeping its pid and every fd without
 * FD_CLOEXEC. Returns only on failure, with -errno.
 */
export function execve(file: string, argv: readonly string[], env: Readonly<Record<string, string | undefined>>): number {
  const envp = Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  execveFn(file, [...argv, null], [...envp, null]);
  return -lastErrno();
}

/** memfd_create(name, MFD_CLOEXEC): an anonymous in-memory file; throws LAUNCHER_SYSCALL. */
export function memfdCreate(name: string): number {
  const fd = orErrno(memfdCreateFn(name, MFD_CLOEXEC));
  if (fd < 0) throw sysError('memfd_create', -fd, { name });
  return fd;
}

/** pidfd_open(pid, 0): a pidfd (close-on-exec) or -errno. */
export function pidfdOpen(pid: number): number {
  return orErrno(Number(syscallIntFn(SYS_PIDFD_OPEN, pid, 0, 0)));
}

/**
 * pidfd_getfd(pidfd, fd, 0): a copy of the process's fd `fd` in this process (the same
 * open file; close-on-exec), or -errno (EPERM where ptrace access is not allowed).
 */
export function pidfdGetfd(pidfd: number, fd: number): number {
  return orErrno(Number(syscallIntFn(SYS_PIDFD_GETFD, pidfd, fd, 0)));
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
