// Maps control requests to the launcher: one small function per verb.
import { LauncherError } from '../errors.js';
import { loadUnitDir } from '../units/index.js';
import type { ControlHandler } from '../control/handler.js';
import type { DownResult, LogsResult, ReloadResult } from '../control/replies.js';
import type { Launcher } from './launcher.js';
import { applyReload } from './reload.js';
import { serveLogs } from './log-follow.js';

/** The launcher-wide operations under way: reloads run one at a time, an upgrade excludes both. */
export interface Operations {
  /** Reloads queued or running (verb and SIGHUP). */
  reloads: number;
  upgrading: boolean;
  /** The tail of the reload queue. */
  reloadLock: Promise<unknown>;
}

export interface HandlerHooks {
  /** Begin an orderly shutdown (the `down` verb). */
  shutdown(): void;
  ops: Operations;
  /** Aborted when the launcher begins to shut down: `logs --follow` requests then end. */
  stopping: AbortSignal;
  /**
   * Replace the launcher's code in place; `beforeExec` runs once the new code accepted
   * the state. Resolves never (the process becomes the new launcher); rejects
   * LAUNCHER_BUSY or LAUNCHER_UPGRADE_FAILED, and then nothing changed.
   */
  upgrade(beforeExec: () => Promise<void>): Promise<never>;
}

/**
 * Re-reads the unit directory, validated whole, and applies the difference, after any
 * reload already queued (the verb and SIGHUP share one queue). Refused during an upgrade.
 */
export function reloadUnits(launcher: Launcher, ops: Operations, progress: (message: string) => void): Promise<ReloadResult> {
  if (ops.upgrading) return Promise.reject(new LauncherError('LAUNCHER_BUSY', 'cannot reload while an upgrade is under way'));
  ops.reloads += 1;
  const run = ops.reloadLock.then(() => reloadNow(launcher, progress)).finally(() => (ops.reloads -= 1));
  ops.reloadLock = run.catch(() => {});
  return run;
}

async function reloadNow(launcher: Launcher, progress: (message: string) => void): Promise<ReloadResult> {
  if (launcher.unitsDir === null) {
    throw new LauncherError('LAUNCHER_USAGE', 'this launcher runs an ad-hoc unit (`launcher run`); there is no directory to reload');
  }
  const next = await loadUnitDir(launcher.unitsDir);
  const outcome = await applyReload(launcher, next, progress);
  const first = outcome.failed[0];
  if (first) {
    const error = first.error instanceof LauncherError ? first.error : new LauncherError('LAUNCHER_RESTART_FAILED', String(first.error));
    throw new LauncherError('LAUNCHER_RESTART_FAILED', `reload applied partly: ${first.unit}: ${error.message}`, {
      ...error.context,
      unit: first.unit,
      summary: outcome.summary,
    });
  }
  return { summary: outcome.summary };
}

/** Margin past the stop timeouts for a `down` client to wait before it calls the launcher stuck. */
const DOWN_MARGIN_MS = 5000;

/**
 * What `down` answers before it stops anything: the launcher's pid (the client waits for it to be
 * gone), the processes it is about to stop, and how long that may take: every service gets its
 * stop_timeout (in parallel), then orphans get the largest one again (see drain.ts), plus a margin.
 */
export function downReply(launcher: Launcher): Required<DownResult> {
  const largest = launcher.largestStopTimeoutMs();
  const waitingFor = launcher.status().units.flatMap((u) => u.pids.map((pid) => `${u.name}[${pid}]`));
  return { stopping: true, pid: process.pid, waitingFor, deadlineMs: 2 * largest + DOWN_MARGIN_MS };
}

/** A handler for the control server, bound to `launcher` (the server validates requests and answers `ping`). */
export function controlHandler(launcher: Launcher, hooks: HandlerHooks): ControlHandler {
  return async (req, ctx) => {
    const names = 'units' in req.args ? req.args.units : [];
    const progress = (event: object): void => ctx.progress(event);
    switch (req.verb) {
      case 'status':
        return launcher.status(names);
      case 'start':
        await launcher.start(names);
        return { units: names.map((unit) => ({ unit, state: launcher.get(unit).supervisor.status().state })) };
      case 'stop':
        await launcher.stop(names);
        return { units: names.map((unit) => ({ unit, state: launcher.get(unit).supervisor.status().state })) };
      case 'restart': {
        const reports = await launcher.restart(names, progress);
        return { units: reports.map((report) => ({ unit: report.unit, report })) };
      }
      case 'reload':
        return await reloadUnits(launcher, hooks.ops, (message) => progress({ message }));
      case 'upgrade':
        // Answers only on failure: on success the process execs, the connection ends, and the
        // client learns the outcome from `status` (same pid, one more upgrade).
        return await hooks.upgrade(async () => {
          progress({ message: 'the new launcher accepted the state; exec' });
          for (let waited = 0; ctx.pendingBytes() > 0 && waited < 500; waited += 10) await new Promise((r) => setTimeout(r, 10));
        });
      case 'logs': {
        // A unit removed by a reload keeps its lines; a name never seen is an error.
        for (const unit of names) if (!launcher.has(unit) && !launcher.logger.memory.has(unit)) launcher.get(unit);
        // serveLogs (the log pipeline's) resolves with { lines, skipped }: the LogsResult.
        return (await serveLogs(launcher.logger.memory, req.args, ctx, hooks.stopping)) as LogsResult;
      }
      case 'down':
        setImmediate(() => hooks.shutdown());
        return downReply(launcher);
      default:
        throw new LauncherError('LAUNCHER_CONTROL_PROTOCOL', `unknown verb "${req.verb}"`);
    }
  };
}
