// A unit whose sockets have accept = true (systemd's Accept=yes): the launcher
// accepts each connection itself and runs one process per connection, with the
// connection as fd 3, run once and never restarted. At most max_connections
// per socket at a time: beyond that the launcher stops accepting and further
// clients wait in the kernel backlog, none refused. A failing spawn pauses
// accepting with backoff; the socket is never given up.
import { EventEmitter } from 'node:events';
import { asLauncherError } from '../errors.js';
import type { BoundSocket } from '../sockets/bound-socket.js';
import { close, E, setNonBlocking } from '../sys/libc.js';
import { orThrow } from '../errors.js';
import { fdWatcher, type Watch } from '../sys/poll.js';
import { acceptWithPeer, SOCK_CLOEXEC } from '../sys/socket.js';
import type { Unit } from '../units/types.js';
import type { Child, ExitStatus, NotifyMessage, SupervisorEnv } from './contract.js';
import type { RestartReport } from './handoff.js';
import { backoffDelay, describeExit } from './policy.js';
import type { InstanceStatus, UnitStatus } from './status.js';
import { snapshotChild, type AdoptedChildSpec, type PerConnectionSnapshot } from './snapshot.js';

/** One accepted connection, as the spawner gets it; the launcher closes its copy right after spawn(). */
export interface AcceptedConnection {
  readonly fd: number;
  /** "127.0.0.1:5000", "[::1]:5000", or "" for a unix peer. */
  readonly peer: string;
}

/** The side effects a per-connection unit needs besides the clock and the log. */
export interface ConnectionEnv extends Pick<SupervisorEnv, 'now' | 'setTimer' | 'clearTimer' | 'log'> {
  /** The unit's listening sockets (all accept = true). */
  sockets(unit: Unit): readonly BoundSocket[];
  /** Starts the process for connection number `n`; throws (LAUNCHER_SPAWN) when it cannot be created. */
  spawn(unit: Unit, n: number, connection: AcceptedConnection): Child;
  /** Takes over a connection's process after an in-place upgrade (see SupervisorEnv.adopt). */
  adopt?(unit: Unit, n: number, spec: AdoptedChildSpec): Child;
}

interface Running {
  readonly n: number;
  readonly child: Child;
  readonly socketFd: number;
  readonly since: number;
}

/** errnos after which accepting again at once would only spin: out of fds or memory. */
const RESOURCE_ERRNOS = new Set([E.EMFILE, E.ENFILE, E.ENOBUFS, E.ENOMEM]);

/**
 * Drop-in for UnitSupervisor on a per-connection unit (same operations, same
 * status shape; each running connection is an instance numbered n, shown as
 * `unit@n`). start() begins accepting, stop() stops accepting and ends every
 * connection's process (stop_signal, then SIGKILL after stop_timeout). Never
 * emits 'settled': the unit is never done on its own.
 */
export class PerConnectionSupervisor extends EventEmitter {
  #unit: Unit;
  readonly #env: ConnectionEnv;
  readonly #running = new Map<number, Running>();
  #watches: Watch[] = [];
  #accepting = false;
  #next = 0;
  #failures = 0;
  #pause: ReturnType<ConnectionEnv['setTimer']> | null = null;
  #startedAt: number | null = null;
  #killedOnStop = 0;
  /** Total connections accepted (for status and tests). */
  accepted = 0;

  constructor(unit: Unit, env: ConnectionEnv) {
    super();
    this.#unit = unit;
    this.#env = env;
  }

  get unit(): Unit {
    return this.#unit;
  }

  /** Begins accepting on every socket of the unit. Resolves at once. */
  start(): Promise<void> {
    if (!this.#accepting) {
      this.#accepting = true;
      this.#startedAt = this.#env.now();
      this.#arm();
    }
    return Promise.resolve();
  }

  /** How many connection processes a stop had to end with SIGKILL (stop_timeout ran out), ever. */
  get killedOnStop(): number {
    return this.#killedOnStop;
  }

  /** Nothing to activate: the launcher accepts itself. */
  activate(): void {}

  /** Stops accepting (connections wait in the backlog) and ends every connection's process. */
  async stop(_options: { force?: boolean } = {}): Promise<void> {
    this.#accepting = false;
    this.#startedAt = null;
    this.#disarm();
    if (this.#pause) this.#env.clearTimer(this.#pause);
    this.#pause = null;
    const { stopSignal, stopTimeoutMs } = this.#unit.service;
    const all = [...this.#running.values()];
    await Promise.all(
      all.map(async ({ child }) => {
        child.kill(stopSignal);
        const timer = this.#env.setTimer(stopTimeoutMs, () => {
          this.#killedOnStop += 1;
          child.kill('SIGKILL');
        });
        await child.exited;
        this.#env.clearTimer(timer);
      }),
    );
  }

  /** Ends the running connections' processes and accepts again (each connection is run once). */
  async restart(): Promise<RestartReport> {
    await this.stop();
    await this.start();
    return { unit: this.#unit.name, instances: [] };
  }

  /**
   * A reload changed the unit: connections from now on get the new spec (and its
   * sockets); the ones running finish as they are, like systemd's Accept=yes
   * instances across a daemon-reload. Not accepting (stopped): adopts it only.
   */
  replace(unit: Unit): Promise<RestartReport> {
    this.#unit = unit;
    if (this.#accepting) this.#arm();
    return Promise.resolve({ unit: unit.name, instances: [] });
  }

  /** A per-connection process reads no notify socket; nothing is attributed. */
  notify(_msg: NotifyMessage): number | null {
    return null;
  }

  runs(unit: Unit): boolean {
    return unit === this.#unit;
  }

  /** `running` while accepting (or `backoff` while paused after spawn failures), else `inactive`; one instance per live connection. */
  status(): UnitStatus {
    const instances: InstanceStatus[] = [...this.#running.values()].map((r) => ({
      index: r.n,
      state: 'running',
      pid: r.child.pid,
      since: r.since,
      restarts: 0,
      statusText: null,
      lastExit: null,
      reason: null,
      readySince: r.since,
    }));
    return {
      name: this.#unit.name,
      state: !this.#accepting ? (instances.length ? 'stopping' : 'inactive') : this.#pause ? 'backoff' : 'running',
      ...(this.#unit.description !== undefined ? { description: this.#unit.description } : {}),
      instances,
      restarts: 0,
      startedAt: this.#startedAt,
    };
  }

  /** The running connections' processes and the accept state, as plain data (for an in-place upgrade). */
  snapshot(): PerConnectionSnapshot {
    const now = this.#env.now();
    const ago = (t: number): number => Math.max(0, Math.round(now - t));
    return {
      kind: 'per-connection',
      accepting: this.#accepting,
      next: this.#next,
      accepted: this.accepted,
      killedOnStop: this.#killedOnStop,
      startedAgoMs: this.#startedAt === null ? null : ago(this.#startedAt),
      running: [...this.#running.values()].map((r) => ({ n: r.n, socketFd: r.socketFd, sinceAgoMs: ago(r.since), child: snapshotChild({ child: r.child, pid: r.child.pid }, now) })),
    };
  }

  /**
   * Takes over `snap` (a fresh supervisor only): adopts the running connections' processes
   * and accepts again if it was accepting. A pause after spawn failures is not carried.
   */
  restore(snap: PerConnectionSnapshot): void {
    const adopt = this.#env.adopt;
    if (!adopt) throw new Error('this ConnectionEnv cannot adopt children');
    const now = this.#env.now();
    this.#next = snap.next;
    this.accepted = snap.accepted;
    this.#killedOnStop = snap.killedOnStop;
    for (const r of snap.running) {
      const c = r.child;
      const child = adopt.call(this.#env, this.#unit, r.n, { pid: c.pid, stdout: c.stdout, stderr: c.stderr, lastLines: c.lastLines, exit: c.exit });
      this.#track({ n: r.n, child, socketFd: r.socketFd, since: now - r.sinceAgoMs }, r.socketFd);
    }
    if (snap.accepting) {
      this.#accepting = true;
      this.#startedAt = snap.startedAgoMs === null ? now : now - snap.startedAgoMs;
      this.#arm();
    }
  }

  /** Watches every socket still below its max_connections. */
  #arm(): void {
    this.#disarm();
    if (!this.#accepting || this.#pause) return;
    for (const socket of this.#env.sockets(this.#unit)) {
      if (this.#countOn(socket.fd) >= socket.spec.maxConnections) continue;
      // Only the launcher accepts on this socket, so O_NONBLOCK on it is ours to set: a
      // connection reset between poll and accept4 then gives EAGAIN instead of blocking.
      orThrow(setNonBlocking(socket.fd, true), 'fcntl(F_SETFL)', { fd: socket.fd });
      this.#watches.push(fdWatcher().watch(socket.fd, () => this.#acceptOn(socket)));
    }
  }

  #disarm(): void {
    for (const w of this.#watches) w.cancel();
    this.#watches = [];
  }

  #countOn(fd: number): number {
    let n = 0;
    for (const r of this.#running.values()) if (r.socketFd === fd) n++;
    return n;
  }

  #acceptOn(socket: BoundSocket): void {
    while (this.#accepting && !this.#pause && this.#countOn(socket.fd) < socket.spec.maxConnections) {
      const accepted = acceptWithPeer(socket.fd, SOCK_CLOEXEC);
      if (typeof accepted === 'number') {
        const errno = -accepted;
        if (errno === E.EAGAIN || errno === E.EWOULDBLOCK) return;
        if (errno === E.EINTR || errno === E.ECONNABORTED || errno === E.EPROTO) continue;
        const why = `accept4 on ${socket.spec.listenText} failed (errno ${errno}${RESOURCE_ERRNOS.has(errno) ? ', out of resources' : ''})`;
        this.#pauseAccepting(why);
        return;
      }
      this.#launch(socket, accepted);
    }
    // At max_connections: stop watching this socket; a connection's exit re-arms it.
    this.#arm();
  }

  #launch(socket: BoundSocket, connection: AcceptedConnection): void {
    const n = this.#next++;
    this.accepted++;
    let child: Child;
    try {
      child = this.#env.spawn(this.#unit, n, connection);
    } catch (error) {
      close(connection.fd);
      this.#pauseAccepting(`cannot start a process for connection ${n}: ${asLauncherError(error).message}`);
      return;
    }
    close(connection.fd); // the child has its own copy now
    if (child.pid <= 0) {
      void child.exited.then(() => undefined);
      this.#pauseAccepting(`cannot start a process for connection ${n}: ${child.lastLines().join(' ') || 'spawn failed'}`);
      return;
    }
    this.#failures = 0;
    const from = connection.peer ? ` from ${connection.peer}` : '';
    this.#env.log({ unit: this.#unit.name, level: 'info', message: `@${n}: connection${from}, started pid ${child.pid}`, instance: n, pid: child.pid });
    this.#track({ n, child, socketFd: socket.fd, since: this.#env.now() }, socket.fd);
  }

  /** Counts a connection's process as running until it exits, then accepts again if it was at max_connections. */
  #track(record: Running, socketFd: number): void {
    this.#running.set(record.n, record);
    const { n, child } = record;
    void child.exited.then((status: ExitStatus) => {
      this.#running.delete(n);
      this.#env.log({ unit: this.#unit.name, level: 'info', message: `@${n}: ${describeExit(status)}`, instance: n, pid: child.pid });
      const max = this.#env.sockets(this.#unit).find((s) => s.fd === socketFd)?.spec.maxConnections ?? 0;
      if (this.#accepting && this.#countOn(socketFd) === max - 1) this.#arm();
    });
  }

  /** Stops accepting for a backoff delay (doubling per consecutive failure, up to restart_delay_max), and says so. */
  #pauseAccepting(why: string): void {
    const svc = this.#unit.service;
    const delay = Math.max(100, backoffDelay(this.#failures, Math.max(100, svc.restartDelayMs), svc.restartDelayMaxMs));
    this.#failures++;
    this.#disarm();
    if (this.#pause) this.#env.clearTimer(this.#pause);
    this.#env.log({ unit: this.#unit.name, level: 'warn', message: `${why}; pausing accepts for ${delay} ms (the socket stays open, clients wait in its backlog)` });
    this.#pause = this.#env.setTimer(delay, () => {
      this.#pause = null;
      this.#arm();
    });
  }
}
