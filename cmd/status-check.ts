// `launcher status --check`: the health rule for container HEALTHCHECKs and
// Kubernetes exec probes, decided from a status reply alone.
import type { StatusReply } from './status-table.js';

/** Unit states that count as healthy: serving, or an on-demand unit waiting for its first connection. */
const HEALTHY_STATES: ReadonlySet<string> = new Set(['running', 'waiting']);

/**
 * Exit code of `status --check` for `reply`: 0 when every unit in it is
 * `running` or `waiting`, 1 otherwise (starting, backoff, stopping, failed,
 * inactive). A reply with no units is healthy: nothing is expected to run.
 */
export function checkExitCode(reply: StatusReply): 0 | 1 {
  return reply.units.every((u) => HEALTHY_STATES.has(u.state)) ? 0 : 1;
}
