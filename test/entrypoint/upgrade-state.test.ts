// The upgrade state's format: every released version must stay readable by newer
// code (one fixture per version in test/fixtures/state/, captured from a real
// launcher), and a state from a newer launcher, or no state at all, is refused
// with a message naming what is wrong.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATE_VERSION, parseState, stateFds } from '../../src/entrypoint/upgrade-state.js';
import { FIXTURES } from '../helpers/launcher.js';

const DIR = path.join(FIXTURES, 'state');
const fixtures = readdirSync(DIR).filter((f) => /^v\d+\.json$/.test(f));

describe('upgrade state', () => {
  it('has a fixture for every version up to the current one', () => {
    expect(fixtures.map((f) => Number(f.slice(1, -5))).sort((a, b) => a - b)).toEqual(Array.from({ length: STATE_VERSION }, (_, k) => k + 1));
  });

  for (const file of fixtures) {
    it(`reads ${file}: the units, their sockets, children and timers`, () => {
      const state = parseState(readFileSync(path.join(DIR, file), 'utf8'));
      expect(state.units.map((u) => u.unit.name)).toEqual(['echo', 'keep', 'web']);
      const web = state.units.find((u) => u.unit.name === 'web')!;
      expect(web.supervisor.kind).toBe('service');
      if (web.supervisor.kind !== 'service') return;
      expect(web.supervisor.instances.map((i) => i.state)).toEqual(['running', 'running']);
      expect(web.supervisor.instances.every((i) => i.child && i.child.pid > 0 && i.child.stdout > 2)).toBe(true);
      const fds = stateFds(state);
      expect(fds).toContain(state.control!.fd);
      expect(fds).toContain(web.sockets[0]!.fd);
      expect(new Set(fds).size).toBe(fds.length);
    });
  }

  it('refuses a state written by a newer launcher, naming both versions', () => {
    const text = readFileSync(path.join(DIR, `v${STATE_VERSION}.json`), 'utf8');
    const newer = JSON.stringify({ ...JSON.parse(text), version: STATE_VERSION + 1 });
    expect(() => parseState(newer)).toThrow(new RegExp(`version ${STATE_VERSION + 1} was written by a newer launcher; this one reads up to version ${STATE_VERSION}`));
  });

  it('refuses what is not a state', () => {
    expect(() => parseState('{')).toThrow(/not JSON/);
    expect(() => parseState('{"format":"something else"}')).toThrow(/not a launcher state/);
    const text = JSON.parse(readFileSync(path.join(DIR, `v${STATE_VERSION}.json`), 'utf8')) as { units: { sockets: unknown[] }[] };
    text.units[0]!.sockets = [{ spec: {} }];
    expect(() => parseState(JSON.stringify(text))).toThrow(/echo: sockets without fds/);
  });
});
