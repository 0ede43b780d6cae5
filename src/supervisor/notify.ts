// The launcher's NOTIFY_SOCKET: an AF_UNIX datagram socket with SO_PASSCRED,
// drained on the fd watcher, that turns each sd_notify datagram into a
// NotifyMessage carrying the sender's pid. It checks the datagram itself
// (size, NUL bytes, credentials) exactly as systemd does; deciding whether
// the pid belongs to the service is the supervisor's job.
import { chmodSync, lstatSync } from 'node:fs';
import { LauncherError, syscallError } from '../errors.js';
import { asBindError } from '../sockets/bind-error.js';
import { close } from '../sys/libc.js';
import { E } from '../sys/errno.js';
import { fdWatcher, type Watch } from '../sys/poll.js';
import { AF_UNIX } from '../sys/sockaddr.js';
import { bind, socket, setsockoptInt, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOL_SOCKET, SO_PASSCRED } from '../sys/socket.js';
import { recvWithCredentials, unixAddress, type ReceivedDatagram } from '../sys/dgram.js';
import type { NotifyMessage } from './contract.js';
import { clearSocketPath, removeSocketFile } from '../sockets/unix-file.js';
import type { CreatedSocketFile } from '../sockets/bound-socket.js';

/** systemd's NOTIFY_BUFFER_MAX: a longer datagram is ignored whole. */
export const NOTIFY_MAX_BYTES = 4096;
/** Datagrams read per wake-up; the watch is level-triggered, so the rest wait for the next round. */
const DRAIN_BATCH = 256;

export interface NotifyHandlers {
  /**
   * A well-formed datagram; the supervisor attributes it by msg.pid. The handler
   * owns msg.fds and must store or close each one (systemd-notify's BARRIER=1 fd
   * releases its sender only once closed).
   */
  onMessage(msg: NotifyMessage): void;
  /** A datagram dropped here (too long, NUL byte, no credentials), with the sender's pid (0 if unknown). */
  onIgnored?(reason: string, pid: number): void;
}

export interface NotifySocket {
  /** The value for a service's NOTIFY_SOCKET: the absolute path or "@name". */
  readonly address: string;
  /** The bound datagram socket (an in-place upgrade carries it). */
  readonly fd: number;
  /**
   * Handles every datagram queued right now, synchronously. Called before a
   * child's exit is acted on: what it sent just before dying (FDSTORE=1 while
   * stopping) must be credited to it while its pid is still known.
   */
  drain(): void;
  /** Stop watching, close the fd, remove the socket file; idempotent. */
  close(): void;
}

/**
 * Binds a notify socket at `address` (absolute path or "@abstract") and
 * delivers datagrams to `handlers` on the main thread until close().
 *
 * A path socket replaces a stale socket file left at that path (a previous
 * launcher that died); any other kind of file there is an error. Its mode is
 * 0777 like systemd's /run/systemd/notify, so services running as another
 * `user` can send to it: sending needs write permission on the file, and
 * the receiver trusts only the kernel-checked sender pid anyway. Restrict
 * access with the folder it lives in. Throws LAUNCHER_BIND when it cannot
 * be created or bound.
 */
export function openNotifySocket(address: string, handlers: NotifyHandlers): NotifySocket {
  const sockaddr = unixAddress(address);
  if (sockaddr === undefined) {
    throw new LauncherError('LAUNCHER_BIND', `notify socket ${address}: not an absolute path or "@name"`, { address, expected: 'an absolute path or "@name"' });
  }
  const path = sockaddr.family === 'unix' ? sockaddr.path : null;
  const fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw asBindError(`notify socket ${address}`, syscallError('socket', -fd), { address });
  let created: CreatedSocketFile | undefined;
  try {
    const passcred = setsockoptInt(fd, SOL_SOCKET, SO_PASSCRED, 1);
    if (passcred < 0) throw syscallError('setsockopt', -passcred, { option: SO_PASSCRED });
    if (path) removeStaleSocket(path);
    const bound = bind(fd, sockaddr);
    if (bound < 0) throw syscallError('bind', -bound);
    if (path) {
      const stats = lstatSync(path);
      created = { path, dev: stats.dev, ino: stats.ino };
      chmodSync(path, 0o777);
    }
  } catch (error) {
    close(fd);
    if (created) removeSocketFile(created);
    throw asBindError(`notify socket ${address}`, error, { address });
  }
  return serveNotifySocket(fd, address, handlers, created);
}

/**
 * Serves a bound notify socket `fd` at `address` (a new one, or one carried across an
 * in-place upgrade): datagrams go to `handlers` until close().
 */
export function serveNotifySocket(fd: number, address: string, handlers: NotifyHandlers, created?: CreatedSocketFile): NotifySocket {
  const watch: Watch = fdWatcher().watch(fd, () => void drain(fd, handlers));
  let closed = false;
  return {
    address,
    fd,
    drain() {
      if (closed) return;
      for (;;) if (drain(fd, handlers) < DRAIN_BATCH) return;
    },
    close() {
      if (closed) return;
      closed = true;
      watch.cancel();
      close(fd);
      if (created) removeSocketFile(created);
    },
  };
}

/** Reads up to DRAIN_BATCH datagrams; returns how many it read. */
function drain(fd: number, handlers: NotifyHandlers): number {
  let i = 0;
  for (; i < DRAIN_BATCH; i++) {
    const datagram = recvWithCredentials(fd, NOTIFY_MAX_BYTES);
    if (datagram === -E.EAGAIN || datagram === -E.EWOULDBLOCK) return i;
    if (typeof datagram === 'number') throw syscallError('recvmsg', -datagram, { fd });
    const verdict = checkDatagram(datagram);
    if (typeof verdict === 'string') {
      // A refused datagram's fds are closed here: keeping any would leak.
      for (const passed of datagram.fds) close(passed);
      handlers.onIgnored?.(verdict, datagram.pid);
      continue;
    }
    handlers.onMessage(verdict);
  }
  return i;
}


/** The NotifyMessage a datagram carries, or why it is ignored. */
export function checkDatagram(datagram: ReceivedDatagram): NotifyMessage | string {
  if (datagram.truncated) return `datagram over ${NOTIFY_MAX_BYTES} bytes`;
  if (datagram.pid <= 0) return 'datagram without sender credentials';
  if (datagram.data.includes(0)) return 'datagram holds a NUL byte';
  return { pid: datagram.pid, uid: datagram.uid, fields: parseNotifyFields(datagram.data.toString('utf8')), fds: datagram.fds };
}

/**
 * Newline-separated KEY=VALUE assignments; lines without '=' (or with an
 * empty key) are skipped, a later duplicate wins.
 */
export function parseNotifyFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return fields;
}

/**
 * Frees `path` for bind by the one stale-socket policy (sockets/unix-file.ts): a socket
 * nobody listens on is removed; a live one, or a file that is not a socket, is refused.
 */
function removeStaleSocket(path: string): void {
  const found = clearSocketPath(path);
  if (found.kind === 'not-socket') {
    throw new LauncherError('LAUNCHER_BIND', `${path} exists and is not a socket; refusing to replace it`, { address: path });
  }
  if (found.kind === 'live') {
    throw new LauncherError('LAUNCHER_BIND', `notify socket ${path}: address in use by a running process`, { address: path, errno: E.EADDRINUSE, errnoName: 'EADDRINUSE' });
  }
  if (found.kind === 'failed') throw syscallError(found.syscall, found.errno, { address: path });
}
