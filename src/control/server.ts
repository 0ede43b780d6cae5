// The control server: accepts connections on the raw listening socket itself
// (so it can read each peer's SO_PEERCRED first), refuses every uid but root and
// its own, and hands the rest to `net.Socket` for the JSON-lines protocol.
import net from 'node:net';
import { LauncherError } from '../errors.js';
import { close, E, errnoName } from '../sys/libc.js';
import { fdWatcher, type Watch } from '../sys/poll.js';
import { accept4, peerCredentials, SOCK_CLOEXEC, SOCK_NONBLOCK } from '../sys/socket.js';
import { ControlConnection } from './connection.js';
import type { ControlHandler, ControlLog } from './handler.js';
import { closeControlListener, openControlListener, type ControlListener } from './listener.js';
import { encodeError } from './protocol.js';

export type { ControlHandler, ControlLog, HandlerContext, LogLevel } from './handler.js';

/** After EMFILE/ENFILE, wait this long before accepting again (level-triggered poll would spin). */
const ACCEPT_BACKOFF_MS = 100;

/** A refused peer has this long to read its refusal before the connection is destroyed. */
const DENIED_LINGER_MS = 1000;

export interface ControlServerOptions {
  /** The socket file; its folder is created 0700, the socket is 0600. */
  path: string;
  /** Any object is carried as the result; the launcher's own handler is a ControlHandler, typed per verb. */
  handler: ControlHandler<object>;
  log: ControlLog;
  /** A listening socket carried across an in-place upgrade: served as is, not bound again. */
  listener?: ControlListener;
}

export interface ControlServer {
  /** The absolute path of the socket file. */
  readonly path: string;
  /** The listening socket (an in-place upgrade carries its fd). */
  readonly listener: ControlListener;
  /**
   * Stops accepting, lets running requests answer for up to `graceMs` (default
   * 1000), ends every connection and unlinks the socket file. Idempotent. Do not
   * await it from inside a handler (that request would wait for itself).
   */
  close(opts?: { graceMs?: number }): Promise<void>;
}

/**
 * Binds the control socket and serves it until `close()`. Throws
 * LAUNCHER_ALREADY_RUNNING when a live launcher answers on `path` (a stale
 * socket file is replaced), LAUNCHER_BIND when the socket cannot be created.
 * A peer whose uid is neither 0 nor this process's gets one
 * LAUNCHER_CONTROL_DENIED error line (id null), is disconnected, and the
 * refusal is logged at "warn"; none of its bytes reach the handler.
 */
export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const listener = opts.listener ?? openControlListener(opts.path);
  return new Server(listener, opts);
}

class Server implements ControlServer {
  readonly path: string;
  private readonly ownUid = process.geteuid?.() ?? 0;
  private readonly connections = new Set<ControlConnection>();
  private watch: Watch | undefined;
  private backoff: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(readonly listener: ControlListener, private readonly opts: ControlServerOptions) {
    this.path = listener.path;
    this.watchListener();
  }

  close({ graceMs = 1000 }: { graceMs?: number } = {}): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.backoff);
      this.watch?.cancel();
      this.watch = undefined;
      closeControlListener(this.listener);
      await Promise.all([...this.connections].map((connection) => connection.shutdown(graceMs)));
    })();
    return this.closing;
  }

  private watchListener(): void {
    this.watch = fdWatcher().watch(this.listener.fd, () => this.acceptPending());
  }

  /** Accepts until the backlog is empty (the watch is level-triggered). */
  private acceptPending(): void {
    while (this.closing === undefined) {
      const fd = accept4(this.listener.fd, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0) {
        this.serve(fd);
        continue;
      }
      const errno = -fd;
      if (errno === E.EAGAIN || errno === E.EWOULDBLOCK) return;
      if (errno === E.ECONNABORTED || errno === E.EINTR) continue;
      this.opts.log('warn', `control socket accept4: ${errnoName(errno)}, pausing accepts for ${ACCEPT_BACKOFF_MS} ms`);
      this.watch?.cancel();
      this.watch = undefined;
      this.backoff = setTimeout(() => {
        if (this.closing === undefined) this.watchListener();
      }, ACCEPT_BACKOFF_MS);
      return;
    }
  }

  private serve(fd: number): void {
    const peer = peerCredentials(fd);
    if (typeof peer === 'number') {
      close(fd);
      this.opts.log('warn', `control connection without credentials (getsockopt(SO_PEERCRED): ${errnoName(-peer)}), ignoring`);
      return;
    }
    if (peer.uid !== 0 && peer.uid !== this.ownUid) {
      this.deny(fd, peer);
      return;
    }
    let socket: net.Socket;
    try {
      socket = new net.Socket({ fd, readable: true, writable: true, allowHalfOpen: true });
    } catch (error) {
      close(fd);
      this.opts.log('warn', `cannot serve the control connection of pid ${peer.pid} (${(error as Error).message}), ignoring`);
      return;
    }
    const connection = new ControlConnection({ socket, uid: peer.uid, pid: peer.pid, handler: this.opts.handler, log: this.opts.log });
    this.connections.add(connection);
    void connection.closed.then(() => this.connections.delete(connection));
  }

  /**
   * One error line, then EOF. The refused peer's request is read and dropped
   * rather than left unread: closing at once would race its first write (EPIPE
   * or a reset) and it would never see why it was refused.
   */
  private deny(fd: number, peer: { pid: number; uid: number }): void {
    const allowed = this.ownUid === 0 ? 'root' : `uid ${this.ownUid} and root`;
    const refusal = new LauncherError(
      'LAUNCHER_CONTROL_DENIED',
      `uid ${peer.uid} may not control this launcher; only ${allowed} may`,
      { uid: peer.uid, pid: peer.pid, expected: allowed },
    );
    try {
      const socket = new net.Socket({ fd, readable: true, writable: true });
      socket.on('error', () => {}); // the peer may vanish first; nothing is owed to it
      socket.on('data', () => {});
      socket.end(encodeError(null, refusal));
      setTimeout(() => socket.destroy(), DENIED_LINGER_MS).unref();
    } catch {
      close(fd);
    }
    this.opts.log('warn', `refused a control connection from uid ${peer.uid} (pid ${peer.pid})`);
  }
}
