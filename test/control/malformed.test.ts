import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { request } from '../../src/control/client.js';
import { MAX_LINE_BYTES } from '../../src/control/protocol.js';
import { listOpenFds } from '../../src/sys/fds.js';
import { stopFdWatcher } from '../../src/sys/poll.js';
import { waitFor } from '../helpers/wait.js';
import { ok } from '../helpers/sys.js';
import { exchange, finalFor, line, startTestServer, type TestServer } from '../helpers/control-server.js';

let current: TestServer | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});
afterAll(() => stopFdWatcher());

/** A deterministic generator (mulberry32) so a failing fuzz run can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const valid = { v: 1, id: 1, verb: 'status', args: { units: ['web'] } };

describe('malformed requests', () => {
  const cases: [string, string | Buffer, number | null][] = [
    ['invalid JSON', '{"v":1,"id":3,\n', null],
    ['an unknown verb', line({ v: 1, id: 3, verb: 'format-disk' }), 3],
    ['a path-like unit "../x"', line({ v: 1, id: 3, verb: 'stop', args: { units: ['../x'] } }), 3],
    ['a path-like unit "a/b"', line({ v: 1, id: 3, verb: 'restart', args: { units: ['a/b'] } }), 3],
    ['a wrong version', line({ v: 2, id: 3, verb: 'ping' }), 3],
    ['a line over 64 KiB', Buffer.alloc(MAX_LINE_BYTES + 10, 'a'), null],
    ['a complete line over 64 KiB', line({ ...valid, pad: 'x'.repeat(MAX_LINE_BYTES) }), null],
  ];

  for (const [what, data, id] of cases) {
    it(`answers ${what} with LAUNCHER_CONTROL_PROTOCOL and closes; the server is unaffected`, async () => {
      current ??= await startTestServer();
      const raw = await exchange(current.path, data);
      expect(raw.closedByServer).toBe(true);
      expect(raw.replies).toHaveLength(1);
      expect(raw.replies[0]).toMatchObject({ v: 1, id, error: { code: 'LAUNCHER_CONTROL_PROTOCOL' } });
      expect(await request(current.path, 'status', { units: ['web'] })).toEqual({ verb: 'status', args: { units: ['web'] } });
    });
  }

  it('answers the good requests before a bad one, and none after it', async () => {
    current = await startTestServer();
    const data = line({ ...valid, id: 1 }) + line({ v: 1, id: 2, verb: 'nope' }) + line({ ...valid, id: 3 });
    const raw = await exchange(current.path, data);
    expect(raw.replies.map((r) => [r.id, 'result' in r ? 'result' : 'error'])).toEqual([[1, 'result'], [2, 'error']]);
    expect(raw.closedByServer).toBe(true);
  });

  it('survives thousands of fuzzed lines and still answers ping', async () => {
    current = await startTestServer();
    const fdsBefore = ok(listOpenFds()).length;
    const random = seeded(0xc0ffee);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const junk = (length: number): Buffer => Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
    const mutations: (() => string | Buffer)[] = [
      () => Buffer.concat([junk(1 + Math.floor(random() * 200)), Buffer.from('\n')]),
      () => line(valid).slice(0, Math.floor(random() * 40)) + '\n',
      () => line({ ...valid, v: pick([0, 2, '1', null, 1.5]) }),
      () => line({ ...valid, id: pick([-1, 'x', null, 1e300, 0.5]) }),
      () => line({ ...valid, verb: pick(['', 'STATUS', 'rm', '__proto__', 'constructor']) }),
      () => line({ ...valid, args: { units: [pick(['..', '/etc', 'a/b', '', '\u0000', 'é', ' web'])] } }),
      () => line({ ...valid, args: pick([[], 'x', null, { units: 'web' }, { unit: ['web'] }, { __proto__: { units: [] } }]) }),
      () => line(pick([null, [], 'text', 7, true])),
      () => junk(1 + Math.floor(random() * 64)), // no newline at all, then hang up
      () => line(valid).replace('"status"', '"status\\u0000"'),
    ];
    const total = 2000;
    const batch = 50;
    let answered = 0;
    for (let start = 0; start < total; start += batch) {
      const round = Array.from({ length: batch }, () => pick(mutations)());
      const results = await Promise.all(round.map((data) => exchange(current!.path, data, () => false, 5000, { halfClose: true })));
      for (const raw of results) {
        expect(raw.closedByServer).toBe(true);
        for (const reply of raw.replies) {
          if ('error' in reply) expect((reply.error as { code: string }).code).toBe('LAUNCHER_CONTROL_PROTOCOL');
          answered++;
        }
      }
    }
    expect(answered).toBeGreaterThan(total / 2);
    expect(await request(current.path, 'ping')).toMatchObject({ pong: true });
    const raw = await exchange(current.path, line({ v: 1, id: 77, verb: 'ping' }), (r) => !!finalFor(r, 77));
    expect(finalFor(raw.replies, 77)).toMatchObject({ result: { pong: true } });
    // Every fuzzed connection was closed: no fd leaked.
    await waitFor(() => ok(listOpenFds()).length <= fdsBefore, { what: `fd count back to ${fdsBefore}` });
  });
});
