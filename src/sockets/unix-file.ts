// The unix socket file around bind(2): clear a stale file first (only when nothing
// listens on it), then set mode and owner, and remember which file we made. The one
// stale-socket policy: units' sockets, the control socket and notify sockets use it.
import { chmodSync, chownSync, lstatSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { close } from '../sys/libc.js';
import { E, errnoOf } from '../sys/errno.js';
import { SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_SEQPACKET, SOCK_STREAM, connect, socket } from '../sys/socket.js';
import { AF_UNIX } from '../sys/sockaddr.js';
import { lookupId } from '../units/accounts.js';
import type { SocketSpec } from '../units/types.js';
import { bindFailure, syscallFailure } from './bind-error.js';
import type { CreatedSocketFile } from './bound-socket.js';

/** What a probe found at a socket file: a listener, nobody, or the connect errno. */
export type Liveness = 'live' | 'stale' | { errno: number };

/**
 * Whether a process listens on the socket file at `file`. connect(2) answers:
 * ECONNREFUSED = nobody (stale); success or EAGAIN (queue full) = live; EPROTOTYPE =
 * a socket of another type, so try the next type. The probe is non-blocking.
 */
export function probeUnixSocket(file: string): Liveness {
  for (const type of [SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM]) {
    const fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return { errno: -fd };
    const ret = connect(fd, { family: 'unix', path: file });
    close(fd);
    if (ret === 0 || ret === -E.EAGAIN || ret === -E.EINPROGRESS) return 'live';
    if (ret === -E.ECONNREFUSED) return 'stale';
    if (ret !== -E.EPROTOTYPE) return { errno: -ret };
  }
  return 'stale';
}

/** What stands at a socket path before bind, once stale sockets are cleared. */
export type SocketPath =
  /** Nothing there (any more): a socket nobody listened on was removed. */
  | { readonly kind: 'free' }
  /** A process listens there (even with a full backlog): left alone. */
  | { readonly kind: 'live' }
  /** A regular file, a symlink, a folder: left alone, never deleted. */
  | { readonly kind: 'not-socket' }
  | { readonly kind: 'failed'; readonly syscall: 'lstat' | 'connect' | 'unlink'; readonly errno: number };

/**
 * Frees `file` for bind when it holds a stale socket. The parent folder is not created: a
 * missing one is 'free' here and fails at bind (ENOENT), which says it better.
 */
export function clearSocketPath(file: string): SocketPath {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(file).isSocket();
  } catch (error) {
    const errno = errnoOf(error);
    return errno === E.ENOENT || errno === E.ENOTDIR ? { kind: 'free' } : { kind: 'failed', syscall: 'lstat', errno };
  }
  if (!isSocket) return { kind: 'not-socket' };
  const liveness = probeUnixSocket(file);
  if (liveness === 'live') return { kind: 'live' };
  if (liveness !== 'stale') return liveness.errno === E.ENOENT ? { kind: 'free' } : { kind: 'failed', syscall: 'connect', errno: liveness.errno };
  try {
    unlinkSync(file);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno !== E.ENOENT) return { kind: 'failed', syscall: 'unlink', errno };
  }
  return { kind: 'free' };
}

/**
 * clearSocketPath for a unit's socket: a live socket → LAUNCHER_BIND "address in use by a
 * running process"; a file that is not a socket → LAUNCHER_BIND, never deleted.
 */
export function clearStaleSocketFile(unit: string, spec: SocketSpec, file: string): void {
  const found = clearSocketPath(file);
  const inUse = { path: file, errno: E.EADDRINUSE, errnoName: 'EADDRINUSE' };
  if (found.kind === 'not-socket') throw bindFailure(unit, spec, 'a file that is not a socket is in the way (not removing it)', inUse);
  if (found.kind === 'live') throw bindFailure(unit, spec, 'address in use by a running process', inUse);
  if (found.kind === 'failed') {
    throw syscallFailure(unit, spec, found.syscall, found.errno, found.syscall === 'connect' ? ' (while checking for a stale socket file)' : '');
  }
}

/** A hint for the errors users meet when the path itself is wrong. */
export function unixBindHint(file: string, errno: number): string {
  if (errno === E.ENOENT) return ` (the folder ${path.dirname(file)} does not exist; the launcher does not create it)`;
  if (errno === E.EACCES || errno === E.EROFS) return ` (cannot create a file in ${path.dirname(file)})`;
  return '';
}

function resolveAccount(unit: string, spec: SocketSpec, kind: 'user' | 'group', value: string): number {
  const id = lookupId(kind, value);
  if (id === undefined) throw bindFailure(unit, spec, `${kind === 'user' ? 'owner' : 'group'} "${value}" does not exist`, { key: kind === 'user' ? 'owner' : 'group' });
  return id;
}

function rethrowFsError(unit: string, spec: SocketSpec, error: unknown): never {
  const e = error as NodeJS.ErrnoException;
  if (typeof e.code === 'string' && typeof e.syscall === 'string') {
    throw syscallFailure(unit, spec, e.syscall, errnoOf(e));
  }
  throw error;
}

/** The identity of the socket file bind just created, so closeSocket removes this file only. */
export function recordSocketFile(unit: string, spec: SocketSpec, file: string): CreatedSocketFile {
  try {
    const stats = lstatSync(file);
    return { path: file, dev: stats.dev, ino: stats.ino };
  } catch (error) {
    return rethrowFsError(unit, spec, error);
  }
}

/**
 * chmod to spec.mode and chown to spec.owner/group (names from /etc/passwd and /etc/group,
 * or numeric). Throws LAUNCHER_BIND; the caller closes the fd and removes the file.
 */
export function applySocketFileAccess(unit: string, spec: SocketSpec, file: string): void {
  try {
    if (spec.mode !== undefined) chmodSync(file, spec.mode);
    if (spec.owner !== undefined || spec.group !== undefined) {
      const uid = spec.owner !== undefined ? resolveAccount(unit, spec, 'user', spec.owner) : -1;
      const gid = spec.group !== undefined ? resolveAccount(unit, spec, 'group', spec.group) : -1;
      chownSync(file, uid, gid);
    }
  } catch (error) {
    rethrowFsError(unit, spec, error);
  }
}

/** Removes `created` if the path still is that same file (a newer socket there is left alone). */
export function removeSocketFile(created: CreatedSocketFile): void {
  try {
    const stats = lstatSync(created.path);
    if (stats.dev === created.dev && stats.ino === created.ino) unlinkSync(created.path);
  } catch {
    // Already gone, or the folder went away: nothing of ours is left there.
  }
}
