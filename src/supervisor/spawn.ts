// Starting one service process with the activation protocol: sockets at fds 3..,
// LISTEN_* / NOTIFY_SOCKET / WATCHDOG_* set, its own process group, output as lines.
import { execa } from 'execa';
import { reapplyOptions } from '../sockets/options.js';
import type { Child, ExitStatus } from './contract.js';
import { EXIT_NOT_FOUND, execCommand, type ShimKind } from './exec-shim.js';
import { buildServiceEnv, pidVariables, type ServiceEnvOptions } from './spawn-env.js';
import { encodeIds, serviceIdentity } from './spawn-identity.js';
import { relayOutput, type OutputListener, type OutputRelay } from './spawn-output.js';
export type { OutputLine, OutputLines, OutputListener, OutputSink, OutputFds } from './spawn-output.js';
import { pipeCloexec } from '../sys/pipe.js';
import { close } from '../sys/libc.js';
import { syscallError } from '../errors.js';

/** What spawnService needs: the child's environment (spawn-env.ts), and how to start and watch it. */
export interface SpawnOptions extends Omit<ServiceEnvOptions, 'identityEnv'> {
  /** Also place this fd at 0 and 1 (stdio = "socket": the accepted connection). */
  readonly stdioFd?: number;
  /** Gets each complete output line (and a partial last line at exit): a function per line, or a sink per chunk. */
  readonly onLine?: OutputListener;
  /** Called synchronously as soon as the process exists, before the event loop turns. */
  readonly onSpawn?: (pid: number) => void;
  /** Exec shim override (tests); default /bin/sh when present, else the Node shim. */
  readonly shim?: ShimKind;
}

/**
 * stdin /dev/null, stdout/stderr the write ends of real pipes, sockets at 3, 4, …: libuv
 * dup2()s each fd into place, which clears close-on-exec on the copy only. (execa's types
 * list only the literal fds 3-9 for extra stdio entries; child_process accepts any open fd,
 * hence the casts.)
 */
function serviceStdio(stdout: number, stderr: number, fds: readonly number[], stdioFd: number | undefined): readonly [3 | 'ignore', 3, 3, ...3[]] {
  return [stdioFd === undefined ? 'ignore' : (stdioFd as 3), (stdioFd ?? stdout) as 3, stderr as 3, ...fds.map((fd) => fd as 3)];
}

/** Two pipe2(O_CLOEXEC) pairs, for stdout and stderr; LAUNCHER_SYSCALL (nothing left open) when one cannot be made. */
function outputPipes(): [[number, number], [number, number]] {
  const out = pipeCloexec();
  if (typeof out === 'number') throw syscallError('pipe2', -out);
  const err = pipeCloexec();
  if (typeof err === 'number') {
    out.forEach((fd) => close(fd));
    throw syscallError('pipe2', -err);
  }
  return [out, err];
}

/**
 * Starts instance `instance` of `unit`. Re-applies each socket's options first (throws
 * LAUNCHER_BIND if that fails; nothing is started then), then runs the service through
 * the exec shim in its own session/process group with cwd = service.workdir, the env of
 * buildServiceEnv, uid/gid from user/group, stdin /dev/null, stdout/stderr piped.
 * The returned Child's `exited` never rejects: a process that could not be created at all
 * (pid 0, onSpawn not called) exits {code: 127} with the reason in lastLines().
 */
export function spawnService(opts: SpawnOptions): Child {
  const { unit, instance, sockets } = opts;
  for (const s of sockets) reapplyOptions(s);
  const identity = serviceIdentity(unit);
  // Supplementary groups need the exec shim (libuv drops them); otherwise libuv switches uid/gid.
  // (Only root may set groups; a non-root launcher runs services as itself.)
  const shimSetsIds = (identity.groups?.length ?? 0) > 1 && process.getuid?.() === 0;
  const extraFds = opts.extraFds ?? [];
  const command = execCommand(unit.service, pidVariables(unit, sockets, extraFds), opts.shim, shimSetsIds ? encodeIds(identity) : '');
  // Real pipes (not libuv's socketpairs), so the service can open /dev/stdout by path.
  // (With stdio = "socket" the connection is fd 1 instead; the stdout pipe then just ends.)
  const [[outRead, outWrite], [errRead, errWrite]] = outputPipes();
  const outputFds = { stdout: outRead, stderr: errRead };
  const subprocess = execa(command.file, [...command.args], {
    ...(command.argv0 !== undefined ? { argv0: command.argv0 } : {}),
    ...(!shimSetsIds && identity.uid !== undefined ? { uid: identity.uid } : {}),
    ...(!shimSetsIds && identity.gid !== undefined ? { gid: identity.gid } : {}),
    stdio: serviceStdio(outWrite, errWrite, [...sockets.map((s) => s.fd), ...extraFds.map((p) => p.fd)], opts.stdioFd),
    detached: true,
    reject: false,
    buffer: false,
    cwd: unit.service.workdir,
    env: buildServiceEnv({ ...opts, identityEnv: identity.env }),
    extendEnv: false,
  });
  const pid = subprocess.pid ?? 0;
  // The child has its copies (or none was made): ours must go, or end of file never comes.
  close(outWrite);
  close(errWrite);
  if (pid > 0) opts.onSpawn?.(pid);

  const output = relayOutput(outputFds, { unit: unit.name, instance, pid }, opts.onLine);

  let hasExited = false;
  let reaped: ExitStatus | null = null;
  const exitedByEvent = new Promise<ExitStatus>((resolve) => {
    subprocess.once('exit', (code, signal) => {
      hasExited = true;
      const status: ExitStatus = signal ? { code: null, signal } : { code: code ?? 0, signal: null };
      reaped = status;
      void output.settled().then(() => resolve(status));
    });
  });
  // A process that exists ends with 'exit'; execa's result matters only when none was created.
  const exitedBySpawnError = subprocess.then((result) => {
    if (pid > 0) return new Promise<never>(() => {});
    hasExited = true;
    const reason = result.shortMessage ?? result.message ?? 'spawn failed';
    for (const line of String(reason).split('\n')) output.recent.push(line);
    return { code: EXIT_NOT_FOUND, signal: null } satisfies ExitStatus;
  });
  const exited = Promise.race([exitedByEvent, exitedBySpawnError]);

  return childOf(pid, exited, output, () => hasExited, () => reaped);
}

/**
 * The Child of a service process that leads its own process group, whose output
 * `output` relays (a spawned one here, an adopted one after an upgrade): `gone` once it
 * has exited (then kill is a no-op), `reaped` its status once reaped.
 */
export function childOf(pid: number, exited: Promise<ExitStatus>, output: OutputRelay, gone: () => boolean, reaped: () => ExitStatus | null): Child {
  return {
    pid,
    exited,
    kill(signal: NodeJS.Signals): void {
      // pid 0 would signal the launcher's own group: never.
      if (gone() || pid <= 0) return;
      try {
        process.kill(-pid, signal);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    },
    lastLines: () => output.recent.snapshot(),
    // Reaped but its output still draining: an upgrade now must carry the exit.
    reapedStatus: reaped,
    get outputFds() {
      return output.openFds();
    },
  };
}
