// The control socket on disk: a private folder, a stale-socket probe, and a raw
// AF_UNIX listening fd (koffi) that the event loop never sees, so the server can
// accept connections itself and read each peer's SO_PEERCRED before serving it.
import { chmodSync, lstatSync, mkdirSync, unlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { LauncherError, isLauncherError } from '../errors.js';
import { close, E, errnoName, sysError } from '../sys/libc.js';
import { AF_UNIX, UNIX_PATH_MAX } from '../sys/sockaddr.js';
import { bind, connect, listen, socket, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../sys/socket.js';

/** Pending control connections the kernel queues before `accept4`. */
const CONTROL_BACKLOG = 128;

/** A bound, listening control socket. */
export interface ControlListener {
  /** The raw listening fd: non-blocking, close-on-exec. */
  readonly fd: number;
  readonly path: string;
  /** The socket file's inode, so close never unlinks a file a newer launcher bound. */
  readonly ino: number;
}

function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Creates the socket's folder with mode 0700 (parents too). When it exists and
 * belongs to this uid it is chmod'ed to 0700, so a stray 0777 from an earlier
 * run is repaired; a folder owned by someone else (root's /run) is left alone.
 */
export function preparePrivateFolder(folder: string): void {
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const stats = lstatSync(folder);
    if (stats.uid === process.geteuid?.() && (stats.mode & 0o777) !== 0o700) chmodSync(folder, 0o700);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    throw new LauncherError('LAUNCHER_BIND', `cannot prepare the control socket folder ${folder}: ${code}`, {
      address: folder, syscall: (error as NodeJS.ErrnoException).syscall, errnoName: code,
    }, { cause: error });
  }
}

/**
 * Ensures nothing live owns `file`: a socket a live launcher answers on throws
 * LAUNCHER_ALREADY_RUNNING; a stale one (connect → ECONNREFUSED) is unlinked; a
 * file that is not a socket throws LAUNCHER_BIND rather than being deleted.
 */
export function clearStaleSocket(file: string): void {
  const stats = lstatOrUndefined(file);
  if (!stats) return;
  if (!stats.isSocket()) {
    throw new LauncherError('LAUNCHER_BIND', `${file} exists and is not a socket; remove it or pick another --control path`, { address: file });
  }
  const probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, { address: file });
  let ret: number;
  try {
    ret = connect(probe, { family: 'unix', path: file });
  } finally {
    close(probe);
  }
  // EAGAIN: a live listener whose backlog is full is still a live launcher.
  if (ret === 0 || ret === -E.EAGAIN || ret === -E.EINPROGRESS) {
    throw new LauncherError('LAUNCHER_ALREADY_RUNNING', `another launcher is already listening on ${file}`, { address: file });
  }
  if (ret === -E.ECONNREFUSED) {
    unlinkSync(file);
    return;
  }
  if (ret === -E.ENOENT) return;
  throw sysError('connect', -ret, { address: file }, 'LAUNCHER_BIND');
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
  clearStaleSocket(absolute);
  const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, { address: absolute });
  let bound = false;
  try {
    bind(fd, { family: 'unix', path: absolute }, { address: absolute });
    bound = true;
    chmodSync(absolute, 0o600);
    listen(fd, CONTROL_BACKLOG, { address: absolute });
    return { fd, path: absolute, ino: lstatSync(absolute).ino };
  } catch (error) {
    close(fd);
    if (bound) unlinkQuietly(absolute);
    if (isLauncherError(error) && error.code === 'LAUNCHER_SYSCALL') {
      const why = error.context.errno === undefined ? error.message : errnoName(error.context.errno);
      throw new LauncherError('LAUNCHER_BIND', `cannot listen on the control socket ${absolute}: ${why}`, { ...error.context, address: absolute }, { cause: error });
    }
    throw error;
  }
}

/** Closes the fd and unlinks the socket file if it is still the one this listener bound. */
export function closeControlListener(listener: ControlListener): void {
  close(listener.fd);
  const stats = lstatOrUndefined(listener.path);
  if (stats && stats.isSocket() && stats.ino === listener.ino) unlinkSync(listener.path);
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone or not ours to remove: the error being reported matters more.
  }
}
