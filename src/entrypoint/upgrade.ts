// `launcher upgrade` / SIGUSR2: the launcher replaces its own code in place. It
// writes its state (versioned JSON, fd numbers) to a memfd, runs the launcher
// found at its original path once as a check with a copy of that state, and only
// if the check accepted it, clears close-on-exec on every fd the state names and
// execs that launcher with the same argv: same pid, same open sockets, the same
// children (they stay ours; the reaper collects them). If the check or the exec
// fails, nothing has changed: the flags are put back and the launcher goes on.
// (systemd's daemon-reexec and einhorn's --upgrade-check do the same.)
import { writeSync } from 'node:fs';
import { execa } from 'execa';
import { LauncherError, syscallError } from '../errors.js';
import { close, getFdFlags, setCloexec, FD_CLOEXEC } from '../sys/libc.js';
import { execve, memfdCreate } from '../sys/reexec.js';
import { isFdOpen } from '../sys/fds.js';
import { CHECK_FD_ENV, CHECK_OK, STATE_FD_ENV, STATE_FORMAT, STATE_VERSION, stateFds, type LauncherIdentity, type LauncherState } from './upgrade-state.js';
import type { ControlListener } from '../control/listener.js';
import type { Launcher } from './launcher.js';

/** How long the new code may take to start and accept the state. */
const CHECK_TIMEOUT_MS = 30_000;
/** Lines of the check's output an error shows. */
const CHECK_LINES = 20;

/** The command line that started this launcher: node, its flags, the entry script and its arguments. */
export function ownCommand(): { file: string; args: string[] } {
  return { file: process.execPath, args: [...process.execArgv, ...process.argv.slice(1)] };
}

/** The state to hand over now (throws LAUNCHER_BUSY while an operation is under way). */
export function captureState(launcher: Launcher, control: ControlListener | null, identity: LauncherIdentity): LauncherState {
  return { format: STATE_FORMAT, version: STATE_VERSION, identity, unitsDir: launcher.unitsDir, control, units: launcher.snapshotUnits() };
}

/** `text` in a fresh memfd (close-on-exec), read back from its start by the next process. */
function stateMemfd(text: string): number {
  const fd = memfdCreate('launcher-state');
  if (fd < 0) throw new LauncherError('LAUNCHER_UPGRADE_FAILED', `upgrade refused, nothing changed: ${syscallError('memfd_create', -fd).message}`);
  const data = Buffer.from(text);
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
  return fd;
}

/**
 * Runs the launcher at its original path as a check: it must start and accept `text`.
 * Throws LAUNCHER_UPGRADE_FAILED with the check's last lines otherwise.
 */
export async function checkNewCode(text: string, ownPids: Set<number>): Promise<void> {
  const fd = stateMemfd(text);
  const { file, args } = ownCommand();
  try {
    const env: Record<string, string | undefined> = { ...process.env, [CHECK_FD_ENV]: '3' };
    delete env[STATE_FD_ENV];
    const check = execa(file, args, {
      env,
      extendEnv: false,
      stdio: ['ignore', 'pipe', 'pipe', fd as 3],
      all: true,
      reject: false,
      timeout: CHECK_TIMEOUT_MS,
      forceKillAfterDelay: 1000,
    });
    // The reaper must leave this child to libuv while it runs.
    if (check.pid) ownPids.add(check.pid);
    const result = await check;
    if (check.pid) ownPids.delete(check.pid);
    const output = String(result.all ?? '');
    if (result.exitCode === 0 && output.includes(CHECK_OK)) return;
    const lines = output.split('\n').filter((l) => l.trim() !== '').slice(-CHECK_LINES);
    const why = result.timedOut ? `did not finish within ${CHECK_TIMEOUT_MS} ms` : result.exitCode !== undefined ? `exited ${result.exitCode}` : `was killed by ${result.signal}`;
    throw new LauncherError('LAUNCHER_UPGRADE_FAILED', `upgrade refused, nothing changed: the new launcher (${args.find((a) => !a.startsWith('-')) ?? file}) ${why} when checked with the state`, {
      lastLines: lines,
    });
  } finally {
    close(fd);
  }
}

/**
 * Execs the launcher at its original path with `state`. Returns only if the exec
 * failed, after putting every fd's close-on-exec flag back (throws LAUNCHER_UPGRADE_FAILED).
 */
export function execWithState(state: LauncherState): never {
  const fd = stateMemfd(JSON.stringify(state));
  // stdin/stdout/stderr too (Node marks them close-on-exec at start), where they are open at all.
  const keep = [...[0, 1, 2].filter(isFdOpen), fd, ...stateFds(state)];
  const restore: number[] = [];
  const undo = (): void => {
    for (const k of restore) setCloexec(k, true);
    close(fd);
  };
  for (const k of keep) {
    const flags = getFdFlags(k);
    const cleared = flags < 0 ? flags : (flags & FD_CLOEXEC) === 0 ? 0 : setCloexec(k, false);
    if (cleared < 0) {
      undo();
      throw new LauncherError('LAUNCHER_UPGRADE_FAILED', `upgrade refused, nothing changed: ${syscallError('fcntl', -cleared, { fd: k }).message} on fd ${k}`);
    }
    if ((flags & FD_CLOEXEC) !== 0) restore.push(k);
  }
  const { file, args } = ownCommand();
  const env: Record<string, string | undefined> = { ...process.env, [STATE_FD_ENV]: String(fd) };
  delete env[CHECK_FD_ENV];
  const failed = execve(file, [file, ...args], env);
  undo();
  throw new LauncherError('LAUNCHER_UPGRADE_FAILED', `upgrade failed, nothing changed: ${syscallError('execve', -failed, { path: file }).message}`, { path: file });
}
