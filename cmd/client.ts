// How client verbs reach the running launcher: resolve the control socket
// (SPEC order) and send one request, printing progress events as they come.
import { controlSocketPath } from '../src/control/paths.js';
import { request } from '../src/control/client.js';
import { LauncherError } from '../src/errors.js';
import { parseDuration } from '../src/units/duration.js';

/** A launcher silent this long (no reply, no heartbeat) is given up on: exit 3. */
const DEFAULT_SILENCE_MS = 10_000;

/** LAUNCHER_TIMEOUT (a duration: "10s", "500ms", seconds) or the default. */
export function silenceMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.LAUNCHER_TIMEOUT;
  if (raw === undefined || raw === '') return DEFAULT_SILENCE_MS;
  try {
    const ms = parseDuration(raw);
    if (ms > 0) return ms;
  } catch {
    // reported below
  }
  throw new LauncherError('LAUNCHER_USAGE', `LAUNCHER_TIMEOUT: expected a duration above zero such as "10s" or "500ms", found "${raw}"`, {
    key: 'LAUNCHER_TIMEOUT', value: raw,
  });
}

/** Sends `verb` to the launcher named by --control / LAUNCHER_CONTROL / the default path. */
export function call(
  controlFlag: unknown,
  verb: string,
  args: Record<string, unknown> = {},
  onEvent?: (event: Record<string, unknown>) => void,
): Promise<Record<string, unknown>> {
  const path = controlSocketPath({ flag: typeof controlFlag === 'string' ? controlFlag : undefined });
  const options = { silenceMs: silenceMs(), ...(onEvent ? { onEvent: onEvent as (e: object) => void } : {}) };
  return request(path, verb, args, options) as Promise<Record<string, unknown>>;
}

/** Prints a progress event's human line, if it has one. */
export function printProgress(event: Record<string, unknown>): void {
  if (typeof event.message === 'string') {
    const who = typeof event.unit === 'string' ? `${event.unit}: ` : '';
    process.stdout.write(`${who}${event.message}\n`);
  }
}
