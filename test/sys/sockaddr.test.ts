// sys/sockaddr: the hand-written struct sockaddr codec — IPv6 text to bytes and back
// (checked against the WHATWG URL parser's canonical form for any 16 bytes), and
// sockaddr_in / sockaddr_in6 / sockaddr_un (path and abstract) encoded and decoded.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AF_INET, AF_INET6, AF_UNIX, UNIX_PATH_MAX, decodeSockaddr, encodeSockaddr, ipv6Bytes, ipv6Text } from '../../src/sys/sockaddr.js';

/** RFC 5952 text of 16 bytes as Node's URL parser writes an IPv6 host (no brackets). */
function canonical(bytes: Uint8Array): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}

/** 16 bytes with zero groups common enough to exercise "::" placement. */
const addressBytes = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }).map((groups) => {
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, 2 * i));
  return out;
});

describe('ipv6Text / ipv6Bytes', () => {
  it('writes the canonical compressed form (longest zero run, leftmost on a tie, never a single group)', () => {
    fc.assert(fc.property(addressBytes, (bytes) => ipv6Text(bytes) === canonical(bytes)), { numRuns: 2000 });
  });

  it('reads back what it writes, and the full uncompressed form', () => {
    fc.assert(
      fc.property(addressBytes, (bytes) => {
        const full = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(2 * i).toString(16)).join(':');
        return ipv6Bytes(ipv6Text(bytes)).equals(bytes) && ipv6Bytes(full).equals(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['::', '00000000000000000000000000000000', '::'],
    ['::1', '00000000000000000000000000000001', '::1'],
    ['1::', '00010000000000000000000000000000', '1::'],
    ['2001:db8::8:800:200c:417a', '20010db80000000000080800200c417a', '2001:db8::8:800:200c:417a'],
    ['1:0:0:2:0:0:0:3', '00010000000000020000000000000003', '1:0:0:2::3'],
    ['1:0:0:2:0:0:3:4', '00010000000000020000000000030004', '1::2:0:0:3:4'],
    ['1:2:3:4:5:6:7:0', '00010002000300040005000600070000', '1:2:3:4:5:6:7:0'],
    ['::ffff:1.2.3.4', '00000000000000000000ffff01020304', '::ffff:102:304'],
    ['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221', '64:ff9b::c000:221'],
    ['FE80::1%eth0', 'fe800000000000000000000000000001', 'fe80::1'],
  ])('%s is %s, written back as %s', (text, hex, back) => {
    expect(ipv6Bytes(text).toString('hex')).toBe(hex);
    expect(ipv6Text(Buffer.from(hex, 'hex'))).toBe(back);
  });

  it('refuses what is not IPv6', () => {
    for (const bad of ['1.2.3.4', '1:2:3', '::1::', 'gggg::', '']) expect(() => ipv6Bytes(bad), bad).toThrow(TypeError);
  });
});

describe('encodeSockaddr / decodeSockaddr', () => {
  it('lays out sockaddr_in: family, port in network order, address', () => {
    const buf = encodeSockaddr({ family: 'inet4', host: '127.0.0.1', port: 8080 });
    expect(buf.length).toBe(16);
    expect(buf.readUInt16LE(0)).toBe(AF_INET);
    expect(buf.readUInt16BE(2)).toBe(8080);
    expect([...buf.subarray(4, 8)]).toEqual([127, 0, 0, 1]);
    expect(decodeSockaddr(buf, buf.length)).toBe('127.0.0.1:8080');
  });

  it('lays out sockaddr_in6 (28 bytes, address at 8) and reads it back bracketed', () => {
    const buf = encodeSockaddr({ family: 'inet6', host: '2001:db8::1', port: 443 });
    expect(buf.length).toBe(28);
    expect(buf.readUInt16LE(0)).toBe(AF_INET6);
    expect(buf.readUInt16BE(2)).toBe(443);
    expect(buf.subarray(8, 24).toString('hex')).toBe('20010db8000000000000000000000001');
    expect(decodeSockaddr(buf, buf.length)).toBe('[2001:db8::1]:443');
  });

  it('lays out a unix path with its NUL, and an abstract name after a leading NUL, each with its exact length', () => {
    const path = encodeSockaddr({ family: 'unix', path: '/run/a.sock' });
    expect(path.readUInt16LE(0)).toBe(AF_UNIX);
    expect(path.length).toBe(2 + '/run/a.sock'.length + 1);
    expect(path.subarray(2).toString()).toBe('/run/a.sock\0');
    expect(decodeSockaddr(path, path.length)).toBe('/run/a.sock');
    const abstract = encodeSockaddr({ family: 'abstract', name: 'launcher/x' });
    expect(abstract.length).toBe(2 + 1 + 'launcher/x'.length);
    expect(abstract[2]).toBe(0);
    expect(decodeSockaddr(abstract, abstract.length)).toBe('@launcher/x');
  });

  it('reads an unnamed unix peer, a path without its NUL, and an unknown family', () => {
    const unnamed = Buffer.alloc(2);
    unnamed.writeUInt16LE(AF_UNIX, 0);
    expect(decodeSockaddr(unnamed, 2)).toBe('(unnamed)');
    const storage = Buffer.alloc(128);
    storage.writeUInt16LE(AF_UNIX, 0);
    storage.write('/tmp/s', 2);
    expect(decodeSockaddr(storage, 2 + '/tmp/s'.length)).toBe('/tmp/s');
    const odd = Buffer.alloc(16);
    odd.writeUInt16LE(17, 0);
    expect(decodeSockaddr(odd, 16)).toBe('(family 17)');
  });

  it('refuses addresses the kernel would refuse', () => {
    expect(() => encodeSockaddr({ family: 'inet4', host: '::1', port: 1 })).toThrow(TypeError);
    expect(() => encodeSockaddr({ family: 'inet6', host: '127.0.0.1', port: 1 })).toThrow(TypeError);
    expect(() => encodeSockaddr({ family: 'unix', path: '' })).toThrow(RangeError);
    expect(() => encodeSockaddr({ family: 'unix', path: '/'.repeat(UNIX_PATH_MAX) })).toThrow(RangeError);
    expect(encodeSockaddr({ family: 'unix', path: '/'.repeat(UNIX_PATH_MAX - 1) }).length).toBe(2 + UNIX_PATH_MAX);
    expect(() => encodeSockaddr({ family: 'abstract', name: 'x'.repeat(UNIX_PATH_MAX) })).toThrow(RangeError);
  });
});
