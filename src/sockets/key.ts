// A socket's identity for reload: two specs with the same key describe the same
// open socket, so a reload may keep it (and its backlog of waiting clients).
import { listenKey } from '../units/address.js';
import type { SocketSpec } from '../units/types.js';

/**
 * Equal for specs that one open socket can serve: same address, type, reuse_port
 * and ipv6_only (fixed at bind time). Every other option can be changed on the
 * open socket (retuneSocket), so a reload keeps the socket when only those change.
 */
export function bindKey(spec: SocketSpec): string {
  return JSON.stringify([listenKey(spec.listen), spec.type, spec.reusePort, spec.ipv6Only]);
}

/**
 * Equal for equal address + type + every option (backlog, reuse_port, ipv6_only,
 * no_delay, keep_alive, non_blocking, mode, owner, group); the fd name and the
 * listen text as written are not part of it ("localhost:80" = "127.0.0.1:80").
 * Stable across launcher versions is not promised: compare keys only within one run.
 */
export function socketKey(spec: SocketSpec): string {
  return JSON.stringify([
    listenKey(spec.listen),
    spec.type,
    spec.backlog,
    spec.reusePort,
    spec.ipv6Only,
    spec.noDelay,
    spec.keepAlive,
    spec.nonBlocking,
    spec.mode ?? null,
    spec.owner ?? null,
    spec.group ?? null,
  ]);
}
