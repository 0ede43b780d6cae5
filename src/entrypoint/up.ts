// `launcher up` and `launcher run`: the foreground launcher. Takes inherited
// sockets, becomes a subreaper (or reaps as PID 1), binds every socket before
// any service starts, serves the control socket, and runs until a stop signal,
// `launcher down`, or until every service has ended for good. After an in-place
// upgrade (`launcher upgrade`, SIGUSR2) the same process starts here again with
// its state on an fd, and takes its sockets and services over instead.
import { mkdirSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { LauncherError, asLauncherError, syscallError } from '../errors.js';
import { adHocUnit, loadUnitDir } from '../units/index.js';
import { formatUnitError } from '../units/format.js';
import type { Unit } from '../units/types.js';
import { takeInheritedFds, type InheritedFds } from '../sockets/inherited.js';
import { markStrayFdsCloexec } from '../sys/fds.js';
import { close } from '../sys/libc.js';
import { getpid, setChildSubreaper } from '../sys/process.js';
import { stopFdWatcher } from '../sys/poll.js';
import { Reaper } from './reaper.js';
import { AdoptedChildren } from './adopted.js';
import { EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND } from '../supervisor/exec-shim.js';
import { DEFAULT_LOG_LINES } from './log-memory.js';
import { createLogger, type LogFormat, type Logger } from './log.js';
import { Launcher, exitCodeOf } from './launcher.js';
import { controlHandler, reloadUnits, type Operations } from './control-handler.js';
import { installSignals } from './signals.js';
import { killGroups, waitForChildren } from './drain.js';
import { captureState, checkNewCode, execWithState } from './upgrade.js';
import { CHECK_FD_ENV, CHECK_OK, STATE_FD_ENV, parseState, readStateFd, type LauncherIdentity, type LauncherState } from './upgrade-state.js';
import { launcherVersion } from '../version.js';
import { ManagerNotify } from './manager-notify.js';
import { GenerationWriter, OldGeneration, generationPath, stopGeneration } from './generation.js';
import { bindKey } from '../sockets/index.js';
import { controlSocketPath } from '../control/paths.js';
import { startControlServer, type ControlServer } from '../control/server.js';

export interface UpOptions {
  readonly unitsDir: string;
  readonly control?: string | undefined;
  readonly logFormat: LogFormat;
  /** --log-dir: DIR/<unit>.log and DIR/launcher.log, rotated. */
  readonly logDir?: { readonly dir: string; readonly maxBytes: number; readonly keep: number } | undefined;
  /** Called once, when every unit has been started (ready or failed) or taken over after an upgrade. */
  readonly onStarted?: (() => void) | undefined;
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
  readonly onStarted?: UpOptions['onStarted'];
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

/**
 * The state an upgrade handed over (the fd is closed and the variable removed, so no
 * service inherits either), or for a check run, the verdict. Null for a plain start.
 */
function takeUpgradeState(): { check: true; code: number } | { check: false; state: LauncherState } | null {
  for (const [name, check] of [[CHECK_FD_ENV, true], [STATE_FD_ENV, false]] as const) {
    const value = process.env[name];
    if (value === undefined) continue;
    delete process.env[name];
    const fd = Number(value);
    try {
      const state = parseState(readStateFd(fd));
      if (!check) return { check, state };
      process.stdout.write(`${CHECK_OK}: version ${launcherVersion()} reads the state of ${state.units.length} unit(s)\n`);
      return { check, code: 0 };
    } catch (error) {
      if (!check) throw error;
      process.stderr.write(`launcher: ${asLauncherError(error).message}\n`);
      return { check, code: 1 };
    } finally {
      if (!check) close(fd);
    }
  }
  return null;
}

/** `launcher up`: every unit of the directory; resolves with the exit code. */
export async function runUp(options: UpOptions): Promise<number> {
  const upgrade = takeUpgradeState();
  if (upgrade?.check) return upgrade.code;
  const logger = openLogger(options.logFormat, options.logDir);
  if (upgrade) return serve({ resume: upgrade.state }, { unitsDir: upgrade.state.unitsDir, control: options.control, logger, controlRequired: true, onStarted: options.onStarted });
  const inherited = takeInheritedFds();
  const units = await loadUnitDir(options.unitsDir);
  return serve({ units, inherited }, { ...options, logger, controlRequired: true });
}

/**
 * `launcher run`: one ad-hoc unit; behaves like tini for CMD (restart "no";
 * exits with CMD's status; 127/126 when CMD is missing / not executable).
 */
export async function runAdHoc(options: RunOptions): Promise<number> {
  const upgrade = takeUpgradeState();
  if (upgrade?.check) return upgrade.code;
  const logger = openLogger(options.logFormat, options.logDir);
  if (upgrade) return serve({ resume: upgrade.state }, { unitsDir: null, control: options.control, logger, controlRequired: false, onStarted: options.onStarted });
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
  return serve({ units: [once], inherited }, { unitsDir: null, control: options.control, logger, controlRequired: false, onStarted: options.onStarted });
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

/**
 * Binds every unit's sockets, first taking over those a crashed launcher's live services
 * still hold (recorded in `generationFile`): the same open sockets, so no client is
 * refused. Where they cannot be taken (the kernel refuses pidfd_getfd, or a bind still
 * collides with them), the old generation is stopped first and the sockets bound anew.
 * Returns the old generation still to be stopped once the new services run, or null.
 */
async function bindTakingOver(launcher: Launcher, units: readonly Unit[], generationFile: string | null, logger: Logger): Promise<OldGeneration | null> {
  const old = generationFile ? OldGeneration.find(generationFile, (level, m) => logger.event(level, m)) : null;
  if (!old) {
    launcher.bindAll(units);
    return null;
  }
  logger.event('warn', `${old.describe()}: taking its sockets over`);
  const { taken, refused } = old.takeSockets();
  const stopFirst = async (why: string): Promise<null> => {
    logger.event('warn', `${why}; stopping the previous generation first, then binding`);
    await stopGeneration(old.processes(), (m) => logger.event('info', m));
    launcher.bindAll(units);
    return null;
  };
  if (refused.length > 0) {
    taken.forEach((fd) => close(fd));
    return stopFirst(`cannot take its sockets (${refused.join('; ')})`);
  }
  try {
    launcher.bindAll(units, (spec) => {
      const key = bindKey(spec);
      const fd = taken.get(key);
      taken.delete(key);
      return fd;
    });
  } catch (error) {
    taken.forEach((fd) => close(fd));
    return stopFirst(`binding next to it failed (${asLauncherError(error).message})`);
  }
  taken.forEach((fd) => close(fd)); // sockets no unit declares any more
  logger.event('info', 'took over the sockets of the previous generation; its processes stop once the new ones have started');
  return old;
}

interface ServeOptions {
  readonly unitsDir: string | null;
  readonly control?: string | undefined;
  readonly logger: Logger;
  readonly controlRequired: boolean;
  readonly onStarted?: (() => void) | undefined;
}

/** Where the units come from: a fresh start binds them; an upgraded process takes them over. */
type Origin = { readonly units: readonly Unit[]; readonly inherited: InheritedFds } | { readonly resume: LauncherState };

/**
 * A launcher that crashes takes every socket down: a bug is logged and the launcher
 * keeps serving. The logger never throws and never writes to a broken stdout; the
 * guard stops a bug inside the logger itself from feeding on its own report.
 * Returns the function that removes the handlers.
 */
function surviveBugs(logger: Logger): () => void {
  // Nothing in `up` writes to process.stdout/stderr, but should anything (a library), a broken
  // pipe there must not become an uncaught exception: the logger's own sink reports it once.
  const ignore = (): void => {};
  process.stdout.on('error', ignore);
  process.stderr.on('error', ignore);
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
  return () => {
    process.off('uncaughtException', onBug);
    process.off('unhandledRejection', onBug);
    process.stdout.off('error', ignore);
    process.stderr.off('error', ignore);
  };
}

/**
 * Shutdown as a small explicit state machine:
 *   serving ──stop / down / every unit ended──► stopping ──second TERM/INT──► hurrying
 *   stopping|hurrying ──services, sockets, orphans done──► (exit code resolved)
 */
class Shutdown {
  state: 'serving' | 'stopping' | 'hurrying' = 'serving';
  readonly stopping = new AbortController();
  readonly exitCode: Promise<number>;
  #resolve!: (code: number) => void;

  constructor(private readonly run: (code: number | 'stopped') => Promise<number>) {
    this.exitCode = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** `code` 'stopped': a requested stop (exit 0, or 1 if something had to be SIGKILLed); a number: every service ended on its own. */
  begin(code: number | 'stopped'): boolean {
    if (this.state !== 'serving') return false;
    this.state = 'stopping';
    this.stopping.abort();
    void this.run(code).then(this.#resolve);
    return true;
  }

  hurry(): void {
    if (this.state === 'stopping') this.state = 'hurrying';
  }
}

async function serve(origin: Origin, options: ServeOptions): Promise<number> {
  const { logger } = options;
  const removeBugHandlers = surviveBugs(logger);
  const inherited = 'inherited' in origin ? origin.inherited : undefined;
  inherited?.warnings.forEach((w) => logger.event('warn', w));
  // Every fd this process was given (or carried across an upgrade) stays out of services unless passed on purpose.
  const stray = markStrayFdsCloexec(new Set());
  if (typeof stray === 'number') throw syscallError('readdir', -stray, { path: '/proc/self/fd' });
  if (getpid() !== 1) {
    const subreaper = setChildSubreaper();
    if (subreaper < 0) logger.event('warn', `cannot become a child subreaper (${syscallError('prctl(PR_SET_CHILD_SUBREAPER)', -subreaper).message}), orphans go to init`);
  }
  const ownPids = new Set<number>();
  const adopted = new AdoptedChildren();
  // libuv reaps what it spawned; the reaper takes orphans and the services adopted across an upgrade.
  const reaper = new Reaper({ isOwnChild: (pid) => ownPids.has(pid) && !adopted.has(pid), onReaped: (r) => adopted.reaped(r) });
  const launcher = new Launcher({ logger, ...(inherited ? { inherited } : {}), ownPids, adopted, unitsDir: options.unitsDir });
  logger.memory.linesOf = (unit) => launcher.find(unit)?.supervisor.unit.service.logLines ?? DEFAULT_LOG_LINES;
  const resumed = 'resume' in origin ? origin.resume : null;
  const identity: LauncherIdentity = resumed
    ? { ...resumed.identity, upgrades: resumed.identity.upgrades + 1, upgradedAt: Date.now(), versions: [...resumed.identity.versions, launcherVersion()] }
    : { startedAt: Date.now(), upgrades: 0, upgradedAt: null, versions: [launcherVersion()] };
  launcher.identity = identity;
  const ops: Operations = { reloads: 0, upgrading: false, reloadLock: Promise.resolve() };
  // Under systemd (Type=notify): READY=1 once started, STOPPING=1 at shutdown.
  const manager = new ManagerNotify(process.env, (m) => logger.event('warn', m));
  let server: ControlServer | undefined;

  /** Closes the control socket, once: no new requests from here on. */
  const closeControl = async (): Promise<void> => {
    const closing = server;
    server = undefined;
    await closing?.close();
  };
  const teardown = async (): Promise<void> => {
    await closeControl();
    reaper.stop();
    stopFdWatcher();
  };
  const shutdown = new Shutdown(async (code) => {
    // Orphans get as long to finish as the slowest unit's stop_timeout (of the units held now, after any reload).
    const graceMs = launcher.largestStopTimeoutMs();
    const servicesClean = await launcher.shutdown();
    await closeControl();
    const orphansClean = await waitForChildren(ownPids, logger, graceMs, () => shutdown.state === 'hurrying');
    generation?.remove();
    await teardown();
    if (code === 'stopped' && !(servicesClean && orphansClean)) logger.event('warn', 'a process had to be killed with SIGKILL; exiting 1');
    await logger.close();
    return code === 'stopped' ? (servicesClean && orphansClean ? 0 : 1) : code;
  });
  const stop = (code: number | 'stopped', why: string): void => {
    if (!shutdown.begin(code)) return;
    logger.event('info', `${why}; stopping every service`);
    manager.stopping(why);
  };
  const upgrade = async (beforeExec: () => Promise<void> = async () => {}): Promise<never> => {
    if (shutdown.state !== 'serving') throw new LauncherError('LAUNCHER_BUSY', 'the launcher is shutting down');
    if (ops.upgrading || ops.reloads > 0) throw new LauncherError('LAUNCHER_BUSY', `cannot upgrade while ${ops.upgrading ? 'another upgrade' : 'a reload'} is under way`);
    ops.upgrading = true;
    try {
      const control = server?.listener ?? null;
      // The check gets a copy; the state handed to exec is taken again right before it (children may have changed).
      await checkNewCode(JSON.stringify(captureState(launcher, control, identity)), ownPids);
      if (shutdown.state !== 'serving' || ops.reloads > 0) throw new LauncherError('LAUNCHER_BUSY', 'cannot upgrade: a reload or shutdown began during the check');
      await beforeExec();
      const state = captureState(launcher, control, identity);
      manager.reloading(`upgrading in place (pid ${process.pid} stays)`);
      logger.event('info', `upgrade: the new launcher accepted the state; exec ${process.argv[1] ?? process.execPath} (pid ${process.pid} stays)`);
      await logger.flush();
      try {
        return execWithState(state);
      } catch (error) {
        manager.ready('upgrade failed; running as before');
        throw error;
      }
    } finally {
      ops.upgrading = false;
    }
  };

  try {
    server = await startControlServer({
      path: controlSocketPath({ flag: options.control }),
      ...(resumed?.control ? { listener: resumed.control } : {}),
      handler: controlHandler(launcher, { shutdown: () => stop('stopped', '`launcher down`'), ops, stopping: shutdown.stopping.signal, upgrade }),
      log: (level, message) => {
        if (level !== 'debug') logger.event(level, message);
      },
    });
  } catch (error) {
    if (options.controlRequired) {
      await teardown();
      removeBugHandlers();
      throw error;
    }
    logger.event('warn', `no control socket (${asLauncherError(error).message}); continuing without one`);
  }

  // Crash recovery: the generation file beside the control socket (see generation.ts).
  const generation = server ? new GenerationWriter(generationPath(server.path), launcher, (m) => logger.event('warn', m)) : undefined;
  let previous: OldGeneration | null = null;
  if (resumed) {
    launcher.restoreUnits(resumed.units);
    logger.event('info', `upgraded in place to version ${launcherVersion()} (upgrade #${identity.upgrades}); took over ${resumed.units.length} unit${resumed.units.length === 1 ? '' : 's'} and their processes`);
  } else {
    const units = 'units' in origin ? origin.units : [];
    try {
      previous = await bindTakingOver(launcher, units, server ? generationPath(server.path) : null, logger);
    } catch (error) {
      await teardown();
      removeBugHandlers();
      throw error;
    }
    inherited?.closeUnused((message) => logger.event('warn', message));
    logger.event('info', `${units.length} unit${units.length === 1 ? '' : 's'} loaded${server ? `; control socket ${server.path}` : ''}`);
  }
  if (generation) {
    generation.previous = previous?.processes() ?? [];
    generation.writeNow();
    launcher.on('changed', () => generation.schedule());
  }
  // Started after the restore: a carried child that exited during the exec is a zombie the first sweep hands to its instance.
  reaper.start();
  if (resumed) reaper.sweep();

  launcher.on('idle', (exit) => {
    const code = exitCodeOf(exit, osConstants.signals);
    stop(code, `every service has ended (last status ${code})`);
  });
  const uninstallSignals = installSignals({
    logger,
    stop: (signal) => stop('stopped', `${signal} received`),
    shuttingDown: () => shutdown.state !== 'serving',
    kill: () => {
      shutdown.hurry();
      killGroups(ownPids);
    },
    reload: () => {
      manager.reloading('reloading the unit directory');
      reloadUnits(launcher, ops, (m) => logger.event('info', m))
        .then(
          (r) => logger.event('info', `reload: ${r.summary.join('; ') || 'nothing changed'}`),
          (error: unknown) => reloadRefused(error).forEach((line) => logger.event('error', line)),
        )
        .finally(() => manager.ready(`${launcher.size} units`));
    },
    upgrade: () => {
      upgrade().catch((error: unknown) => {
        const e = asLauncherError(error);
        logger.event('error', e.message);
        for (const line of (e.context.lastLines as string[] | undefined) ?? []) logger.event('error', `  ${line}`);
      });
    },
  });

  if (resumed) {
    manager.ready(`upgraded in place to ${launcherVersion()}; ${launcher.size} units`);
    options.onStarted?.();
  } else {
    const starts = launcher.runtimes().map((runtime) =>
      launcher.startUnit(runtime).catch((error: unknown) => {
        logger.supervisor({ unit: runtime.supervisor.unit.name, level: 'error', message: asLauncherError(error).message });
      }),
    );
    void Promise.all(starts).then(() => {
      manager.ready(`${launcher.size} units started`);
      options.onStarted?.();
    });
    // A crashed launcher's services went on serving on the sockets taken from them; now that
    // ours have started (ready or failed), they stop as their units say.
    const old = previous?.processes() ?? [];
    if (old.length > 0) {
      void Promise.all(starts)
        .then(() => stopGeneration(old, (m) => logger.event('info', m)))
        .then(() => {
          logger.event('info', 'the previous generation has stopped');
          if (generation) generation.previous = [];
          generation?.schedule();
        });
    }
  }
  const code = await shutdown.exitCode;
  uninstallSignals();
  removeBugHandlers();
  return code;
}
