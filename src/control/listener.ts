// The control socket on disk: a private folder, a stale-socket probe, and a raw
// AF_UNIX listening fd (koffi) that the event loop never sees, so the server can
// accept connections itself and read each peer's SO_PEERCRED before serving it.
import { chmodSync, lstatSync, mkdirSync, unlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { LauncherError, orThrow, syscallError } from '../errors.js';
import { asBindError } from '../sockets/bind-error.js';
import { clearSocketPath, removeSocketFile } from '../sockets/unix-file.js';
import { close } from '../sys/libc.js';
import { AF_UNIX, UNIX_PATH_MAX } from '../sys/sockaddr.js';
import { bind, listen, socket, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../sys/socket.js';

/** Pending control connections the kernel queues before `accept4`. */
const CONTROL_BACKLOG = 128;

/** A bound, listening control socket. */
export interface ControlListener {
  /** The raw listening fd: non-blocking, close-on-exec. */
  readonly fd: number;
  readonly path: string;
  /** The socket file's device and inode, so close never unlinks a file a newer launcher bound. */
  readonly dev: number;
  readonly ino: number;
}

/**
 * Creates the socket's folder with mode 0700 (parents too). It must be a real
 * folder owned by this uid (a stray mode from an earlier run is repaired to
 * 0700) or by root and writable by nobody else (root's /run): a folder another
 * user owns could have our socket swapped under us, so it is refused.
 */
export function preparePrivateFolder(folder: string): void {
  let stats: Stats;
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    stats = lstatSync(folder);
    if (stats.isDirectory() && stats.uid === process.geteuid?.() && (stats.mode & 0o777) !== 0o700) chmodSync(folder, 0o700);
  } catch (error) {
    throw asBindError(`cannot prepare the control socket folder ${folder}`, error, { address: folder });
  }
  const ours = stats.uid === process.geteuid?.();
  const rootOnly = stats.uid === 0 && (stats.mode & 0o022) === 0;
  if (!stats.isDirectory() || !(ours || rootOnly)) {
    throw new LauncherError(
      'LAUNCHER_BIND',
      `the control socket folder ${folder} is ${stats.isDirectory() ? `owned by uid ${stats.uid}` : 'not a folder'}; pick another --control path`,
      { address: folder, expected: `a folder owned by uid ${process.geteuid?.()}`, received: stats.isDirectory() ? `owner uid ${stats.uid}` : 'not a folder' },
    );
  }
}


/**
 * Ensures nothing live owns `file` (the one stale-socket policy, clearSocketPath): a
 * socket a live launcher answers on throws LAUNCHER_ALREADY_RUNNING; a stale one is
 * unlinked; a file that is not a socket throws LAUNCHER_BIND rather than being deleted.
 */
export function clearStaleSocket(file: string): void {
  const found = clearSocketPath(file);
  if (found.kind === 'not-socket') {
    throw new LauncherError('LAUNCHER_BIND', `${file} exists and is not a socket; remove it or pick another --control path`, { address: file });
  }
  // A live listener (even one whose backlog is full) is a live launcher.
  if (found.kind === 'live') {
    throw new LauncherError('LAUNCHER_ALREADY_RUNNING', `another launcher is already listening on ${file}`, { address: file });
  }
  if (found.kind === 'failed') throw syscallError(found.syscall, found.errno, { address: file });
}

/**
 * Binds and listens on `file` (mode 0600 in a 0700 folder). Throws
 * LAUNCHER_ALREADY_RUNNING when a live launcher owns the path, LAUNCHER_BIND
 * when the socket cannot be created there.
 */
export function openControlListener(file: string): ControlListener {
  const absolute = path.resolve(file);
  if (Buffer.byteLength(absolute) >= UNIX_PATH_MAX) {
    throw new LauncherError('LAUNCHER_BIND', `control socket path is ${Buffer.byteLength(absolute)} bytes; unix sockets allow ${UNIX_PATH_MAX - 1}: ${absolute}`, {
      address: absolute, expected: `at most ${UNIX_PATH_MAX - 1} bytes`,
    });
  }
  preparePrivateFolder(path.dirname(absolute));
  let fd = -1;
  let bound = false;
  try {
    clearStaleSocket(absolute);
    fd = orThrow(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), 'socket', { address: absolute });
    orThrow(bind(fd, { family: 'unix', path: absolute }), 'bind', { address: absolute });
    bound = true;
    chmodSync(absolute, 0o600);
    orThrow(listen(fd, CONTROL_BACKLOG), 'listen', { address: absolute });
    const stats = lstatSync(absolute);
    return { fd, path: absolute, dev: stats.dev, ino: stats.ino };
  } catch (error) {
    if (fd >= 0) close(fd);
    if (bound) unlinkQuietly(absolute);
    throw asBindError(`cannot listen on the control socket ${absolute}`, error, { address: absolute });
  }
}

/** Closes the fd and unlinks the socket file if it is still the one this listener bound. */
export function closeControlListener(listener: ControlListener): void {
  close(listener.fd);
  removeSocketFile(listener);
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone or not ours to remove: the error being reported matters more.
  }
}
