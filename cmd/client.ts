// How client verbs reach the running launcher: resolve the control socket
// (SPEC order) and send one request, printing progress events as they come.
import { controlSocketPath } from '../src/control/paths.js';
import { callVerb } from '../src/control/client.js';
import type { ArgsOf, EventOf, ResultOf, Verb } from '../src/control/protocol.js';
import type { ProgressEvent } from '../src/control/replies.js';
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

/**
 * Sends `verb` to the launcher named by --control / LAUNCHER_CONTROL / the default path;
 * resolves with its result, checked against the verb's shape (src/control/replies.ts).
 */
export function call<V extends Verb>(controlFlag: unknown, verb: V, args: ArgsOf<V>, onEvent?: (event: EventOf<V>) => void): Promise<ResultOf<V>> {
  const path = controlSocketPath({ flag: typeof controlFlag === 'string' ? controlFlag : undefined });
  return callVerb(path, verb, args, { silenceMs: silenceMs(), ...(onEvent ? { onEvent } : {}) });
}

/** Prints a progress event's human line, if it has one. */
export function printProgress(event: ProgressEvent): void {
  if (event.message !== undefined) {
    const who = event.unit !== undefined ? `${event.unit}: ` : '';
    process.stdout.write(`${who}${event.message}\n`);
  }
}
