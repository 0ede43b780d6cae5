// fd hygiene at start-up: whatever the launcher inherited without FD_CLOEXEC (a
// shell's or CI harness's stray descriptors) would otherwise leak into every
// service it spawns. Node opens its own fds CLOEXEC; inherited ones are the risk.
// Each call returns its result or -errno.
import { readdirSync } from 'node:fs';
import * as libc from './libc.js';
import { errnoOf } from './errno.js';

/**
 * Whether fds `a` and `b` of this process are the same open file description (a dup
 * of each other, or the same file passed twice), by kcmp(KCMP_FILE) as systemd's
 * same_fd does. False when they differ or when the kernel cannot tell (no kcmp).
 */
export function sameOpenFile(a: number, b: number): boolean {
  return a === b || libc.kcmp(process.pid, process.pid, libc.KCMP_FILE, a, b) === 0;
}

/**
 * The fds open in process `pid` (default this one), ascending, from /proc/<pid>/fd, or
 * -errno when the folder cannot be read (no such process, no permission). For 'self',
 * the directory fd the listing itself used is not included.
 */
export function listOpenFds(pid: number | 'self' = 'self'): number[] | number {
  let entries: string[];
  try {
    entries = readdirSync(`/proc/${pid}/fd`);
  } catch (error) {
    return -errnoOf(error);
  }
  const fds = entries.map(Number).filter((fd) => Number.isInteger(fd));
  // readdir's own directory fd shows up in its listing but is closed by now.
  const open = pid === 'self' ? fds.filter(isFdOpen) : fds;
  return open.sort((a, b) => a - b);
}

/** Whether `fd` is open in this process (fcntl F_GETFD succeeds). */
export function isFdOpen(fd: number): boolean {
  return libc.getFdFlags(fd) >= 0;
}

/**
 * Marks every open fd above 2 that is not in `keep` close-on-exec, so no later
 * spawn inherits it (execa still passes the fds it is given explicitly: libuv
 * dup2s them into place, which clears the flag on the copy). Nothing is closed:
 * a library of this process may still use the fd. Returns the fds it changed,
 * ascending (fds already CLOEXEC, or closed meanwhile, are left alone: F_SETFD
 * fails only for a closed fd), or -errno when /proc/self/fd cannot be listed.
 */
export function markStrayFdsCloexec(keep: ReadonlySet<number>): number[] | number {
  const open = listOpenFds('self');
  if (typeof open === 'number') return open;
  const changed: number[] = [];
  for (const fd of open) {
    if (fd <= 2 || keep.has(fd)) continue;
    const flags = libc.getFdFlags(fd);
    if (flags < 0 || (flags & libc.FD_CLOEXEC) !== 0) continue;
    if (libc.fcntl(fd, libc.F_SETFD, flags | libc.FD_CLOEXEC) >= 0) changed.push(fd);
  }
  return changed;
}
