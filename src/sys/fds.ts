// fd hygiene at start-up: whatever the launcher inherited without FD_CLOEXEC (a
// shell's or CI harness's stray descriptors) would otherwise leak into every
// service it spawns. Node opens its own fds CLOEXEC; inherited ones are the risk.
import { readdirSync } from 'node:fs';
import { libc, lastErrno, sysError, E, F_GETFD, F_SETFD, FD_CLOEXEC } from './libc.js';

// libc.ts's fcntl helpers throw; here a closed fd is an expected answer, not an error.
const fcntlInt = libc.func('int fcntl(int fd, int cmd, int arg)');
// kcmp(2) has no libc wrapper. Declared with fixed integer arguments, which x86_64 and
// aarch64 Linux pass exactly as the variadic syscall() reads them.
const kcmpSyscall = libc.func('long syscall(long number, int pid1, int pid2, int type, unsigned long idx1, unsigned long idx2)');
const SYS_KCMP: Partial<Record<string, number>> = { x64: 312, arm64: 272, riscv64: 272 };
const KCMP_FILE = 0;

/**
 * Whether fds `a` and `b` of this process are the same open file description (a dup
 * of each other, or the same file passed twice), by kcmp(KCMP_FILE) as systemd's
 * same_fd does. False when they differ or when the kernel cannot tell (no kcmp).
 */
export function sameOpenFile(a: number, b: number): boolean {
  if (a === b) return true;
  const nr = SYS_KCMP[process.arch];
  if (nr === undefined) return false;
  return Number(kcmpSyscall(nr, process.pid, process.pid, KCMP_FILE, a, b)) === 0;
}

/**
 * The fds open in process `pid` (default this one), ascending, from /proc/<pid>/fd.
 * For 'self', the directory fd the listing itself used is not included.
 * Throws LAUNCHER_SYSCALL when the folder cannot be read (no such process, no permission).
 */
export function listOpenFds(pid: number | 'self' = 'self'): number[] {
  let entries: string[];
  try {
    entries = readdirSync(`/proc/${pid}/fd`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    throw sysError('readdir', E[code as keyof typeof E] ?? E.EIO, { path: `/proc/${pid}/fd` });
  }
  const fds = entries.map(Number).filter((fd) => Number.isInteger(fd));
  // readdir's own directory fd shows up in its listing but is closed by now.
  const open = pid === 'self' ? fds.filter(isFdOpen) : fds;
  return open.sort((a, b) => a - b);
}

/** Whether `fd` is open in this process (fcntl F_GETFD succeeds). */
export function isFdOpen(fd: number): boolean {
  return (fcntlInt(fd, F_GETFD, 0) as number) >= 0;
}

/**
 * Marks every open fd above 2 that is not in `keep` close-on-exec, so no later
 * spawn inherits it (execa still passes the fds it is given explicitly: libuv
 * dup2s them into place, which clears the flag on the copy). Nothing is closed:
 * a library of this process may still use the fd. Returns the fds it changed,
 * ascending; fds already CLOEXEC or gone meanwhile are left alone.
 */
export function markStrayFdsCloexec(keep: ReadonlySet<number>): number[] {
  const changed: number[] = [];
  for (const fd of listOpenFds('self')) {
    if (fd <= 2 || keep.has(fd)) continue;
    const flags = fcntlInt(fd, F_GETFD, 0) as number;
    if (flags < 0) continue; // closed since the listing
    if ((flags & FD_CLOEXEC) !== 0) continue;
    if ((fcntlInt(fd, F_SETFD, flags | FD_CLOEXEC) as number) < 0) {
      const errno = lastErrno();
      if (errno === E.EBADF) continue;
      throw sysError('fcntl(F_SETFD)', errno, { fd });
    }
    changed.push(fd);
  }
  return changed;
}
