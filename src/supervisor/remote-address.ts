// REMOTE_ADDR / REMOTE_PORT for a per-connection service, from the peer address
// accept4 returned, the way systemd sets them (IPv4-mapped IPv6 shown as IPv4).

/** The variables for a TCP peer ("127.0.0.1:5000", "[::1]:5000"); none for a unix peer. */
export function remoteVariables(peer: string): Record<string, string> {
  const m = /^\[(.*)\]:(\d+)$/.exec(peer) ?? /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(peer);
  if (!m) return {};
  const address = (m[1] ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  return { REMOTE_ADDR: address, REMOTE_PORT: m[2] ?? '' };
}
