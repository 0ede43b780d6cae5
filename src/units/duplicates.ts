// Two sockets that could not both be bound: the same address, or a wildcard that covers the other.
import { listenKey } from './address.js';
import type { SocketSpec } from './types.js';

/** How two sockets clash: `same` normalized address, or one `overlap`s the other (e.g. "8080" and "127.0.0.1:8080"). */
export type Clash = 'same' | 'overlap';

/**
 * Whether `a` and `b` clash. TCP and UDP on one port do not; unix paths (already absolute),
 * abstract names and fd: names clash whatever the socket type, as the kernel's namespace is shared.
 */
export function listensClash(a: SocketSpec, b: SocketSpec): Clash | undefined {
  const x = a.listen;
  const y = b.listen;
  if (x.kind !== y.kind) return undefined;
  switch (x.kind) {
    case 'unix':
      return y.kind === 'unix' && x.path === y.path ? 'same' : undefined;
    case 'abstract':
      return y.kind === 'abstract' && x.name === y.name ? 'same' : undefined;
    case 'fd':
      return y.kind === 'fd' && x.name === y.name ? 'same' : undefined;
    case 'inet': {
      if (y.kind !== 'inet' || x.port !== y.port || transport(a) !== transport(b)) return undefined;
      if (x.host === y.host) return 'same';
      if (x.host === null || y.host === null) return 'overlap';
      if (covers(x.host, a.ipv6Only, y.host) || covers(y.host, b.ipv6Only, x.host)) return 'overlap';
      return undefined;
    }
  }
}

function transport(spec: SocketSpec): string {
  return spec.type === 'datagram' ? 'udp' : 'tcp';
}

/** A wildcard host takes its port on every address of its family; a dual-stack "::" on IPv4 ones too. */
function covers(wildcard: string, ipv6Only: boolean, other: string): boolean {
  const otherIsV6 = other.includes(':');
  if (wildcard === '0.0.0.0') return !otherIsV6;
  if (wildcard === '::') return otherIsV6 || !ipv6Only;
  return false;
}

/**
 * Sockets can clash only within one bucket (same kind and same path, name or port), so a
 * check across many units compares each socket with its bucket, not with every socket.
 */
export function clashBucket(spec: SocketSpec): string {
  // Every inet host of a port shares a bucket: a wildcard may cover a specific host.
  return spec.listen.kind === 'inet' ? `inet:${spec.listen.port}` : listenKey(spec.listen);
}
