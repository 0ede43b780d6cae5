// The real SupervisorEnv: the monotonic clock, Node timers, spawnService with
// the unit's own sockets and notify socket, and the launcher's logger.
import { performance } from 'node:perf_hooks';
import type { SupervisorEnv, TimerHandle } from '../supervisor/contract.js';
import type { ConnectionEnv } from '../supervisor/per-connection.js';
import { remoteVariables } from '../supervisor/remote-address.js';
import { spawnService } from '../supervisor/spawn.js';
import type { Launcher } from './launcher.js';
import type { AdoptedChildren } from './adopted.js';
import type { Child, ExitStatus } from '../supervisor/contract.js';
import type { NotifySocket } from '../supervisor/notify.js';

/**
 * An env bound to `launcher`: spawn looks up the sockets and notify socket of
 * the exact Unit object it is given (a handoff's new spec may differ from the
 * running one), and claims each pid in `ownPids` from spawn to exit so the
 * reaper never takes it.
 */
export function createSupervisorEnv(launcher: Launcher, ownPids: Set<number>, adopted: AdoptedChildren): SupervisorEnv {
  return {
    now: () => performance.now(),
    setTimer: (ms, fn) => setTimeout(fn, ms) as unknown as TimerHandle,
    clearTimer: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
    spawn: (unit, instance) => {
      const notify = launcher.notifyFor(unit);
      let claimed = 0;
      const stored = launcher.get(unit.name).fdStores.passedTo(instance);
      const child = spawnService({
        unit,
        instance,
        sockets: launcher.socketsFor(unit),
        extraFds: stored.map((s) => ({ fd: s.fd, name: s.name })),
        // How many of the LISTEN_FDS are from the fd store (the last ones): socket-launcher/service's stored().
        ...(unit.service.fdStoreMax > 0 ? { extraEnv: { LAUNCHER_STORED_FDS: String(stored.length) } } : {}),
        ...(notify ? { notifySocket: notify.address } : {}),
        onLine: { lines: (batch) => launcher.logger.lines(batch) },
        onSpawn: (pid) => {
          claimed = pid;
          ownPids.add(pid);
        },
      });
      void child.exited.then(() => ownPids.delete(claimed));
      return drainingNotify(child, notify, launcher, unit.name);
    },
    adopt: (unit, instance, spec) => {
      const child = adopted.adopt(spec, { unit: unit.name, instance }, { lines: (batch) => launcher.logger.lines(batch) }, ownPids);
      return drainingNotify(child, launcher.notifyFor(unit), launcher, unit.name);
    },
    log: (event) => launcher.logger.supervisor(event),
  };
}

/**
 * `child` whose exit is acted on only after its notify socket is drained: what it sent
 * just before it died (FDSTORE=1 while stopping) is read while its pid still identifies
 * it, as systemd does.
 */
function drainingNotify(child: Child, notify: NotifySocket | undefined, launcher: Launcher, unit: string): Child {
  const exited = child.exited.then((status: ExitStatus) => {
    try {
      notify?.drain();
    } catch (error) {
      launcher.logger.supervisor({ unit, level: 'warn', message: `reading the notify socket: ${(error as Error).message}, ignoring` });
    }
    return status;
  });
  return {
    pid: child.pid,
    exited,
    kill: (signal) => child.kill(signal),
    lastLines: () => child.lastLines(),
    reapedStatus: () => child.reapedStatus?.() ?? null,
    get outputFds() {
      return child.outputFds;
    },
  };
}

/**
 * The env of a per-connection unit: each connection's process gets the
 * connection as fd 3 (LISTEN_FDS=1, LISTEN_FDNAMES=connection), REMOTE_ADDR and
 * REMOTE_PORT for TCP, and with stdio = "socket" the connection as fds 0 and 1.
 */
export function createConnectionEnv(launcher: Launcher, ownPids: Set<number>, adopted: AdoptedChildren): ConnectionEnv {
  const base = createSupervisorEnv(launcher, ownPids, adopted);
  return {
    now: base.now,
    setTimer: base.setTimer,
    clearTimer: base.clearTimer,
    log: base.log,
    sockets: (unit) => launcher.socketsFor(unit),
    spawn: (unit, n, connection) => {
      let claimed = 0;
      const child = spawnService({
        unit,
        instance: n,
        sockets: [],
        extraFds: [{ fd: connection.fd, name: 'connection' }],
        ...(unit.service.stdio === 'socket' ? { stdioFd: connection.fd } : {}),
        extraEnv: remoteVariables(connection.peer),
        onLine: { lines: (batch) => launcher.logger.lines(batch) },
        onSpawn: (pid) => {
          claimed = pid;
          ownPids.add(pid);
        },
      });
      void child.exited.then(() => ownPids.delete(claimed));
      return child;
    },
    adopt: (unit, n, spec) => adopted.adopt(spec, { unit: unit.name, instance: n }, { lines: (batch) => launcher.logger.lines(batch) }, ownPids),
  };
}
