// Socket addresses in `listen`: every form SPEC.md names, parsed into a ListenAddress.
import net from 'node:net';
import path from 'node:path';
import { invalidValue } from './describe.js';
import { fdNameProblem } from './fd-name.js';
import type { ListenAddress } from './types.js';

/** sun_path holds 108 bytes: a path needs its NUL, an abstract name its leading NUL. */
const SUN_PATH_MAX = 107;

const FORMS = '"PORT", "HOST:PORT", "[IPV6]:PORT", "/path", "unix:path", "@name" or "fd:NAME"';

/**
 * Parse a `listen` string. `unitDir` (absolute) anchors "unix:relative" paths.
 * IPv4/IPv6 hosts are returned in canonical form ("::1", "127.0.0.1"); "localhost"
 * means 127.0.0.1; other host names are refused (units are resolved without DNS).
 * Throws LAUNCHER_UNIT_INVALID naming what was expected.
 */
export function parseListen(text: string, unitDir: string): ListenAddress {
  const bad = (why: string): Error => invalidValue(`bad address ${JSON.stringify(text)}: ${why}`, FORMS, text);
  if (text.length === 0) throw bad(`expected ${FORMS}`);
  if (text.includes('\0')) throw bad('it holds a NUL byte');

  if (text.startsWith('fd:')) {
    const name = text.slice(3);
    const problem = fdNameProblem(name);
    if (problem) throw bad(`the fd name ${problem}`);
    return { kind: 'fd', name };
  }
  if (text.startsWith('@')) {
    const name = text.slice(1);
    if (name.length === 0) throw bad('an abstract socket needs a name after "@"');
    if (Buffer.byteLength(name) > SUN_PATH_MAX - 1) throw bad(`an abstract name is at most ${SUN_PATH_MAX - 1} bytes`);
    return { kind: 'abstract', name };
  }
  if (text.startsWith('unix:') || text.startsWith('/')) {
    const written = text.startsWith('unix:') ? text.slice(5) : text;
    if (written.length === 0) throw bad('"unix:" needs a path');
    const resolved = path.resolve(unitDir, written);
    if (Buffer.byteLength(resolved) > SUN_PATH_MAX) {
      throw bad(`the socket path ${JSON.stringify(resolved)} is longer than ${SUN_PATH_MAX} bytes`);
    }
    if (written.endsWith('/')) throw bad('a socket path must name a file, not a folder');
    return { kind: 'unix', path: resolved };
  }
  if (/^\d+$/.test(text)) return { kind: 'inet', host: null, port: parsePort(text, bad), family: 'any' };
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw bad('missing "]" after the IPv6 address');
    const host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (!net.isIPv6(host)) throw bad(`${JSON.stringify(host)} is not an IPv6 address`);
    if (!rest.startsWith(':')) throw bad('expected ":PORT" after "]"');
    return { kind: 'inet', host: canonicalIPv6(host), port: parsePort(rest.slice(1), bad), family: 6 };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw bad(`expected ${FORMS}`);
  const host = text.slice(0, colon);
  const port = parsePort(text.slice(colon + 1), bad);
  if (host.includes(':')) throw bad('an IPv6 address needs brackets, like "[::1]:8080"');
  if (host === 'localhost') return { kind: 'inet', host: '127.0.0.1', port, family: 4 };
  if (net.isIPv4(host)) return { kind: 'inet', host, port, family: 4 };
  if (host === '' || host === '*') throw bad('for all addresses write just the port, like "8080"');
  throw bad(`${JSON.stringify(host)} is not an IPv4 address (host names other than "localhost" are not resolved)`);
}

function parsePort(text: string, bad: (why: string) => Error): number {
  if (!/^\d{1,5}$/.test(text)) throw bad(`the port must be a number 1-65535, got ${JSON.stringify(text)}`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw bad(`the port must be 1-65535, got ${port}`);
  return port;
}

/** The WHATWG URL parser prints IPv6 in RFC 5952 form, so "0:0::1" and "::1" compare equal. */
function canonicalIPv6(host: string): string {
  try {
    return new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    return host.toLowerCase();
  }
}

/** The address as a user would write it back (status, duplicate messages). */
export function formatListen(address: ListenAddress): string {
  switch (address.kind) {
    case 'inet':
      if (address.host === null) return String(address.port);
      return address.family === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
    case 'unix':
      return address.path;
    case 'abstract':
      return `@${address.name}`;
    case 'fd':
      return `fd:${address.name}`;
  }
}

/**
 * A parsed address as a key: equal for the same address however it was written
 * ("localhost:80" = "127.0.0.1:80"). "inet4:127.0.0.1:80", "inet*:*:80", "unix:/run/a.sock",
 * "abstract:name", "fd:NAME".
 */
export function listenKey(address: ListenAddress): string {
  switch (address.kind) {
    case 'inet':
      return `inet${address.family}:${address.host ?? '*'}:${address.port}`;
    case 'unix':
      return `unix:${address.path}`;
    case 'abstract':
      return `abstract:${address.name}`;
    case 'fd':
      return `fd:${address.name}`;
  }
}
