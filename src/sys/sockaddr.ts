// Encodes and decodes struct sockaddr for AF_INET, AF_INET6 and AF_UNIX (path
// and Linux abstract names) as plain Buffers that koffi passes as `void *`.
import { isIPv4, isIPv6 } from 'node:net';

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;

/** sizeof(struct sockaddr_un.sun_path) on Linux. */
export const UNIX_PATH_MAX = 108;
/** Large enough for any sockaddr the launcher reads back (sockaddr_storage). */
export const SOCKADDR_STORAGE = 128;

/** A socket address in the shapes the launcher binds to. */
export type SockAddr =
  | { readonly family: 'inet4'; readonly host: string; readonly port: number }
  | { readonly family: 'inet6'; readonly host: string; readonly port: number }
  | { readonly family: 'unix'; readonly path: string }
  | { readonly family: 'abstract'; readonly name: string };

/** IPv6 text to its 16 bytes (handles "::" and a trailing dotted IPv4). */
export function ipv6Bytes(host: string): Buffer {
  if (!isIPv6(host)) throw new TypeError(`not an IPv6 address: ${host}`);
  // Rewrite a trailing dotted IPv4 as two hex groups, then expand "::".
  const text = host.replace(/%.*$/, '').replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
  );
  const groupsOf = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const halves = text.split('::');
  const left = groupsOf(halves[0] ?? '');
  const right = halves.length > 1 ? groupsOf(halves[1] ?? '') : [];
  const groups = halves.length > 1 ? [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right] : left;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** 16 bytes to canonical compressed IPv6 text (RFC 5952: longest zero run becomes "::"). */
export function ipv6Text(bytes: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The struct sockaddr bytes for `addr`; the Buffer's length is the socklen_t to pass. */
export function encodeSockaddr(addr: SockAddr): Buffer {
  switch (addr.family) {
    case 'inet4': {
      if (!isIPv4(addr.host)) throw new TypeError(`not an IPv4 address: ${addr.host}`);
      const buf = Buffer.alloc(16);
      buf.writeUInt16LE(AF_INET, 0);
      buf.writeUInt16BE(addr.port, 2);
      addr.host.split('.').forEach((octet, i) => buf.writeUInt8(Number(octet), 4 + i));
      return buf;
    }
    case 'inet6': {
      const buf = Buffer.alloc(28);
      buf.writeUInt16LE(AF_INET6, 0);
      buf.writeUInt16BE(addr.port, 2);
      ipv6Bytes(addr.host).copy(buf, 8);
      return buf;
    }
    case 'unix': {
      const path = Buffer.from(addr.path);
      if (path.length === 0 || path.length >= UNIX_PATH_MAX) {
        throw new RangeError(`unix socket path must be 1..${UNIX_PATH_MAX - 1} bytes, got ${path.length}: ${addr.path}`);
      }
      const buf = Buffer.alloc(2 + path.length + 1);
      buf.writeUInt16LE(AF_UNIX, 0);
      path.copy(buf, 2);
      return buf;
    }
    case 'abstract': {
      const name = Buffer.from(addr.name);
      if (name.length >= UNIX_PATH_MAX) throw new RangeError(`abstract socket name too long: @${addr.name}`);
      const buf = Buffer.alloc(2 + 1 + name.length);
      buf.writeUInt16LE(AF_UNIX, 0);
      name.copy(buf, 3);
      return buf;
    }
  }
}

/** Reads back a sockaddr of `len` bytes: "127.0.0.1:8080", "[::1]:8080", "/path", "@name". */
export function decodeSockaddr(buf: Buffer, len: number): string {
  const family = buf.readUInt16LE(0);
  if (family === AF_INET) {
    return `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}:${buf.readUInt16BE(2)}`;
  }
  if (family === AF_INET6) {
    return `[${ipv6Text(buf.subarray(8, 24))}]:${buf.readUInt16BE(2)}`;
  }
  if (family === AF_UNIX) {
    if (len <= 2) return '(unnamed)';
    if (buf[2] === 0) return '@' + buf.subarray(3, len).toString();
    const end = buf.indexOf(0, 2);
    return buf.subarray(2, end < 0 || end > len ? len : end).toString();
  }
  return `(family ${family})`;
}
