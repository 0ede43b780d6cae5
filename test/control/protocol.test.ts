import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LauncherError } from '../../src/errors.js';
import { FrameSplitter } from '../../src/control/lines.js';
import {
  MAX_LINE_BYTES, encodeError, encodeEvent, encodeRequest, encodeResult, parseReply, parseRequest, requestIdOf,
} from '../../src/control/protocol.js';

function protocolErrorOf(line: string): LauncherError {
  try {
    parseRequest(line);
  } catch (error) {
    expect(error).toBeInstanceOf(LauncherError);
    expect((error as LauncherError).code).toBe('LAUNCHER_CONTROL_PROTOCOL');
    return error as LauncherError;
  }
  throw new Error(`expected ${line} to be refused`);
}

describe('parseRequest', () => {
  it('accepts every verb and normalises args', () => {
    expect(parseRequest('{"v":1,"id":1,"verb":"ping"}')).toEqual({ v: 1, id: 1, verb: 'ping', args: {} });
    expect(parseRequest('{"v":1,"id":2,"verb":"status","args":{}}')).toEqual({ v: 1, id: 2, verb: 'status', args: { units: [] } });
    expect(parseRequest('{"v":1,"id":3,"verb":"restart","args":{"units":["web","worker@1","a.b_c-d"]}}').args).toEqual({
      units: ['web', 'worker@1', 'a.b_c-d'],
    });
    for (const verb of ['reload', 'down']) expect(parseRequest(JSON.stringify({ v: 1, id: 0, verb, args: {} })).verb).toBe(verb);
    for (const verb of ['start', 'stop']) expect(parseRequest(JSON.stringify({ v: 1, id: 0, verb, args: { units: ['x'] } })).verb).toBe(verb);
  });

  it('refuses path-like and malformed unit names, naming the key', () => {
    for (const name of ['../x', 'a/b', '..', '.hidden', '', 'a b', 'x'.repeat(256), 7]) {
      const error = protocolErrorOf(JSON.stringify({ v: 1, id: 1, verb: 'stop', args: { units: [name] } }));
      expect(error.context.key).toBe('args.units[0]');
    }
  });

  it('refuses wrong version, unknown verb, bad id, unknown keys, bad JSON, missing units', () => {
    expect(protocolErrorOf('{"v":2,"id":1,"verb":"ping"}').context.key).toBe('v');
    expect(protocolErrorOf('{"id":1,"verb":"ping"}').context.key).toBe('v');
    expect(protocolErrorOf('{"v":1,"id":1,"verb":"explode"}').context.key).toBe('verb');
    expect(protocolErrorOf('{"v":1,"id":-1,"verb":"ping"}').context.key).toBe('id');
    expect(protocolErrorOf('{"v":1,"id":"1","verb":"ping"}').context.key).toBe('id');
    expect(protocolErrorOf('{"v":1,"id":1,"verb":"ping","extra":true}').context.key).toBe('request.extra');
    expect(protocolErrorOf('{"v":1,"id":1,"verb":"reload","args":{"units":["a"]}}').context.key).toBe('args.units');
    expect(protocolErrorOf('{"v":1,"id":1,"verb":"status","args":{"units":"web"}}').context.key).toBe('args.units');
    expect(protocolErrorOf('{"v":1,"id":1,"verb":"start","args":{}}').context.key).toBe('args.units');
    expect(protocolErrorOf('{"v":1,"id":1,"verb":"start","args":[]}').context.key).toBe('args');
    protocolErrorOf('{"v":1,');
    protocolErrorOf('[1,2]');
    protocolErrorOf('null');
  });

  it('refuses lines over 64 KiB', () => {
    const big = JSON.stringify({ v: 1, id: 1, verb: 'status', args: { units: ['a'.repeat(MAX_LINE_BYTES)] } });
    expect(protocolErrorOf(big).message).toMatch(/limit/);
  });

  it('never throws anything but a protocol LauncherError (fuzzed)', () => {
    const lines = fc.oneof(
      fc.string(),
      fc.json(),
      fc.record({ v: fc.oneof(fc.constant(1), fc.jsonValue()), id: fc.jsonValue(), verb: fc.oneof(fc.constantFrom('ping', 'status', 'stop'), fc.string()), args: fc.jsonValue() }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(lines, (text) => {
        try {
          const request = parseRequest(text);
          expect(request.v).toBe(1);
        } catch (error) {
          expect(error).toBeInstanceOf(LauncherError);
          expect((error as LauncherError).code).toBe('LAUNCHER_CONTROL_PROTOCOL');
        }
      }),
      { numRuns: 3000, seed: 20240601 },
    );
  });

  it('requestIdOf salvages the id of a bad request when it can', () => {
    expect(requestIdOf('{"v":2,"id":9,"verb":"ping"}')).toBe(9);
    expect(requestIdOf('{"v":1')).toBeNull();
    expect(requestIdOf('{"id":"x"}')).toBeNull();
  });
});

describe('encoders and parseReply', () => {
  it('round-trip every reply kind', () => {
    expect(parseReply(encodeEvent(4, { step: 1 }).trimEnd())).toEqual({ kind: 'event', id: 4, event: { step: 1 } });
    expect(parseReply(encodeResult(4, { ok: true }).trimEnd())).toEqual({ kind: 'result', id: 4, result: { ok: true } });
    const error = new LauncherError('LAUNCHER_UNKNOWN_UNIT', 'no unit "x"', { unit: 'x' });
    expect(parseReply(encodeError(null, error).trimEnd())).toEqual({
      kind: 'error', id: null, error: { code: 'LAUNCHER_UNKNOWN_UNIT', message: 'no unit "x"', context: { unit: 'x' } },
    });
    expect(parseRequest(encodeRequest(5, 'stop', { units: ['a'] }).trimEnd()).id).toBe(5);
  });

  it('refuses replies of another version or with no kind', () => {
    expect(() => parseReply('{"v":2,"id":1,"result":{}}')).toThrow(/version/);
    expect(() => parseReply('{"v":1,"id":1}')).toThrow(LauncherError);
    expect(() => parseReply('{"v":1,"id":1,"result":{},"error":{}}')).toThrow(LauncherError);
  });
});

describe('FrameSplitter', () => {
  it('splits across chunks, keeps multi-byte characters whole, drops blank lines and \\r', () => {
    const splitter = new FrameSplitter(100);
    const text = Buffer.from('héllo\r\n\n wörld\nrest');
    const lines: string[] = [];
    for (let i = 0; i < text.length; i++) lines.push(...splitter.push(text.subarray(i, i + 1)).lines);
    expect(lines).toEqual(['héllo', ' wörld']);
  });

  it('reports an overlong line once, complete or pending, then stops', () => {
    const complete = new FrameSplitter(4);
    expect(complete.push(Buffer.from('ok\ntoolong\nok\n'))).toEqual({ lines: ['ok'], overflow: 7 });
    expect(complete.push(Buffer.from('ok\n'))).toEqual({ lines: [] });
    const pending = new FrameSplitter(4);
    expect(pending.push(Buffer.from('abc')).overflow).toBeUndefined();
    expect(pending.push(Buffer.from('de')).overflow).toBe(5);
  });
});
