// `launcher up` and `launcher run`: the foreground launcher. Takes inherited
// sockets, becomes a subreaper (or reaps as PID 1), binds every socket before
// any service starts, serves the control socket, and runs until a stop signal,
// `launcher down`, or until every service has ended for good.
import { mkdirSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { LauncherError, asLauncherError, syscallError } from '../errors.js';
import { adHocUnit, loadUnitDir } from '../units/index.js';
import { formatUnitError } from '../units/format.js';
import type { Unit } from '../units/types.js';
import { takeInheritedFds } from '../sockets/inherited.js';
import { markStrayFdsCloexec } from '../sys/fds.js';
import { getpid, setChildSubreaper } from '../sys/process.js';
import { stopFdWatcher } from '../sys/poll.js';
import { Reaper } from './reaper.js';
import { EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND } from '../supervisor/exec-shim.js';
import { DEFAULT_LOG_LINES } from './log-memory.js';
import { createLogger, type LogFormat, type Logger } from './log.js';
import { Launcher, exitCodeOf } from './launcher.js';
import { controlHandler, reloadUnits } from './control-handler.js';
import { installSignals } from './signals.js';
import { killGroups, waitForChildren } from './drain.js';
import { controlSocketPath } from '../control/paths.js';
import { startControlServer, type ControlServer } from '../control/server.js';

export interface UpOptions {
  readonly unitsDir: string;
  readonly control?: string | undefined;
  readonly logFormat: LogFormat;
  /** --log-dir: DIR/<unit>.log and DIR/launcher.log, rotated. */
  readonly logDir?: { readonly dir: string; readonly maxBytes: number; readonly keep: number } | undefined;
}

/** The logger of `up`/`run`; the log directory is created first (LAUNCHER_USAGE when it cannot be). */
function openLogger(format: LogFormat, logDir: UpOptions['logDir']): Logger {
  if (logDir) {
    try {
      mkdirSync(logDir.dir, { recursive: true });
    } catch (error) {
      throw new LauncherError('LAUNCHER_USAGE', `--log-dir ${logDir.dir}: cannot create it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
        key: '--log-dir', received: logDir.dir,
      });
    }
  }
  return createLogger({ format, logDir });
}

export interface RunOptions {
  readonly name: string;
  readonly listen: string[];
  readonly fdname?: string | undefined;
  readonly ready: 'started' | 'notify';
  readonly exec: string[];
  readonly control?: string | undefined;
  readonly logFormat: LogFormat;
  readonly logDir?: UpOptions['logDir'];
}

/** `launcher up`: every unit of the directory; resolves with the exit code. */
export async function runUp(options: UpOptions): Promise<number> {
  const logger = openLogger(options.logFormat, options.logDir);
  const inherited = takeInheritedFds();
  const units = await loadUnitDir(options.unitsDir);
  return serve(units, { ...options, logger, inherited, controlRequired: true });
}

/**
 * `launcher run`: one ad-hoc unit; behaves like tini for CMD (restart "no";
 * exits with CMD's status; 127/126 when CMD is missing / not executable).
 */
export async function runAdHoc(options: RunOptions): Promise<number> {
  const logger = openLogger(options.logFormat, options.logDir);
  const inherited = takeInheritedFds();
  let unit: Unit;
  try {
    unit = adHocUnit({
      name: options.name,
      listen: options.listen,
      ...(options.fdname !== undefined ? { fdname: options.fdname } : {}),
      ready: options.ready,
      exec: options.exec,
      cwd: process.cwd(),
    });
  } catch (error) {
    const code = commandNotRunnable(error);
    if (code === null) throw error;
    process.stderr.write(`launcher: ${options.exec[0]}: ${code === EXIT_NOT_FOUND ? 'command not found' : 'permission denied'}\n`);
    return code;
  }
  const once: Unit = { ...unit, service: { ...unit.service, restart: 'no' } };
  return serve([once], { unitsDir: null, control: options.control, logger, inherited, controlRequired: false });
}

/** A refused reload as `check` would print it: the summary, then one located line per unit-file error. */
export function reloadRefused(thrown: unknown): string[] {
  const error = asLauncherError(thrown);
  const unitErrors = ['LAUNCHER_UNITS_INVALID', 'LAUNCHER_UNIT_INVALID', 'LAUNCHER_UNIT_SYNTAX'].includes(error.code);
  if (!unitErrors) return [`reload refused: ${error.message}`];
  return [`reload refused, nothing changed: ${error.message}`, ...formatUnitError(error).map((line) => `  ${line}`)];
}

/** 127 or 126 when the only problem is CMD itself (missing / not executable: context.executable), else null. */
function commandNotRunnable(error: unknown): number | null {
  const errors = error instanceof LauncherError ? (error.context.errors ?? [error]) : [];
  if (errors.length === 0 || !errors.every((e) => e.context.key === 'CMD')) return null;
  return errors.some((e) => e.context.executable === 'not-executable') ? EXIT_CANNOT_EXECUTE : EXIT_NOT_FOUND;
}

interface ServeOptions {
  readonly unitsDir: string | null;
  readonly control?: string | undefined;
  readonly logger: Logger;
  readonly inherited: ReturnType<typeof takeInheritedFds>;
  readonly controlRequired: boolean;
}

async function serve(units: readonly Unit[], options: ServeOptions): Promise<number> {
  const { logger, inherited } = options;
  // Nothing in `up` writes to process.stdout/stderr, but should anything (a library), a broken
  // pipe there must not become an uncaught exception: the logger's own sink reports it once.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  // A launcher that crashes takes every socket down: log a bug and keep serving. The logger
  // never throws and never writes to a broken stdout; the guard stops a bug inside the
  // logger itself from feeding on its own report.
  let inBug = false;
  const onBug = (error: unknown): void => {
    if (inBug) return;
    inBug = true;
    try {
      logger.event('error', `internal error, continuing: ${error instanceof Error ? error.stack : String(error)}`);
    } catch {
      // the logger is what failed; nothing safe is left to report to
    } finally {
      inBug = false;
    }
  };
  process.on('uncaughtException', onBug);
  process.on('unhandledRejection', onBug);
  inherited.warnings.forEach((w) => logger.event('warn', w));
  const stray = markStrayFdsCloexec(new Set());
  if (typeof stray === 'number') throw syscallError('readdir', -stray, { path: '/proc/self/fd' });
  const ownPids = new Set<number>();
  if (getpid() !== 1) {
    const subreaper = setChildSubreaper();
    if (subreaper < 0) logger.event('warn', `cannot become a child subreaper (${syscallError('prctl(PR_SET_CHILD_SUBREAPER)', -subreaper).message}), orphans go to init`);
  }
  const reaper = new Reaper({ isOwnChild: (pid) => ownPids.has(pid) });
  reaper.start();

  const launcher = new Launcher({ logger, inherited, ownPids, unitsDir: options.unitsDir });
  logger.memory.linesOf = (unit) => launcher.units.get(unit)?.supervisor.unit.service.logLines ?? DEFAULT_LOG_LINES;
  const stopping = new AbortController();
  const controlPath = controlSocketPath({ flag: options.control });
  let server: ControlServer | undefined;
  let finished!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finished = resolve));
  let shuttingDown = false;
  // Set by a second SIGTERM/SIGINT: stop waiting for anything, SIGKILL what is left.
  let hurry = false;
  const reloadLock = { current: Promise.resolve() as Promise<unknown> };

  // `code` 'stopped': a requested stop, which exits 0 when every process ended by its stop
  // signal and 1 when one had to be SIGKILLed (SPEC); a number: every service ended on its own.
  const shutdown = async (code: number | 'stopped', why: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    stopping.abort();
    logger.event('info', `${why}; stopping every service`);
    // Orphans get as long to finish as the slowest unit's stop_timeout (of the units held now, after any reload).
    const graceMs = launcher.largestStopTimeoutMs();
    const servicesClean = await launcher.shutdown();
    await server?.close();
    const orphansClean = await waitForChildren(ownPids, logger, graceMs, () => hurry);
    reaper.stop();
    stopFdWatcher();
    if (code === 'stopped' && !(servicesClean && orphansClean)) logger.event('warn', 'a process had to be killed with SIGKILL; exiting 1');
    await logger.close();
    finished(code === 'stopped' ? (servicesClean && orphansClean ? 0 : 1) : code);
  };

  try {
    server = await startControlServer({
      path: controlPath,
      handler: controlHandler(launcher, { shutdown: () => void shutdown('stopped', '`launcher down`'), reloadLock, stopping: stopping.signal }),
      log: (level, message) => {
        if (level !== 'debug') logger.event(level, message);
      },
    });
  } catch (error) {
    if (options.controlRequired) {
      reaper.stop();
      stopFdWatcher();
      throw error;
    }
    logger.event('warn', `no control socket (${asLauncherError(error).message}); continuing without one`);
  }

  try {
    launcher.bindAll(units);
  } catch (error) {
    await server?.close();
    reaper.stop();
    stopFdWatcher();
    throw error;
  }
  inherited.closeUnused((message) => logger.event('warn', message));
  logger.event('info', `${units.length} unit${units.length === 1 ? '' : 's'} loaded${server ? `; control socket ${server.path}` : ''}`);

  launcher.on('idle', (exit) => {
    const code = exitCodeOf(exit, osConstants.signals);
    void shutdown(code, `every service has ended (last status ${code})`);
  });
  const uninstall = installSignals({
    logger,
    stop: (signal) => void shutdown('stopped', `${signal} received`),
    shuttingDown: () => shuttingDown,
    kill: () => {
      hurry = true;
      killGroups(ownPids);
    },
    reload: () => {
      const run = reloadLock.current.then(() => reloadUnits(launcher, (m) => logger.event('info', m)));
      reloadLock.current = run.catch(() => {});
      run.then(
        (r) => logger.event('info', `reload: ${r.summary.join('; ') || 'nothing changed'}`),
        (error: unknown) => reloadRefused(error).forEach((line) => logger.event('error', line)),
      );
    },
  });

  for (const runtime of launcher.units.values()) {
    launcher.startUnit(runtime).catch((error: unknown) => {
      logger.supervisor({ unit: runtime.supervisor.unit.name, level: 'error', message: asLauncherError(error).message });
    });
  }
  const code = await done;
  uninstall();
  return code;
}
