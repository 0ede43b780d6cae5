// How client verbs reach the running launcher: resolve the control socket
// (SPEC order) and send one request, printing progress events as they come.
import { controlSocketPath } from '../src/control/paths.js';
import { request } from '../src/control/client.js';

/** Sends `verb` to the launcher named by --control / LAUNCHER_CONTROL / the default path. */
export function call(
  controlFlag: unknown,
  verb: string,
  args: Record<string, unknown> = {},
  onEvent?: (event: Record<string, unknown>) => void,
): Promise<Record<string, unknown>> {
  const path = controlSocketPath({ flag: typeof controlFlag === 'string' ? controlFlag : undefined });
  return request(path, verb, args, onEvent ? { onEvent: onEvent as (e: object) => void } : {}) as Promise<Record<string, unknown>>;
}

/** Prints a progress event's human line, if it has one. */
export function printProgress(event: Record<string, unknown>): void {
  if (typeof event.message === 'string') {
    const who = typeof event.unit === 'string' ? `${event.unit}: ` : '';
    process.stdout.write(`${who}${event.message}\n`);
  }
}
