// The command line as a new user meets it: help, version, mistakes, `check`.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, FIXTURES, makeUnitDir } from '../helpers/launcher.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

describe('launcher (no launcher needed)', () => {
  it('--help lists every verb and exits 0', async () => {
    const r = await cli(['--help']);
    expect(r.exitCode).toBe(0);
    for (const verb of ['up', 'run', 'check', 'status', 'start', 'stop', 'restart', 'reload', 'down']) {
      expect(r.stdout).toMatch(new RegExp(`launcher ${verb}\\b`));
    }
  });

  it('per-verb help describes the verb flags', async () => {
    const r = await cli(['run', '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('--fdname');
    expect(r.stdout).toContain('-- CMD');
  });

  it('--version prints the package version', async () => {
    const r = await cli(['--version']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('an unknown verb exits 2 with a suggestion and no stack trace', async () => {
    const r = await cli(['stauts']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('Did you mean status?');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown flag exits 2', async () => {
    const r = await cli(['check', '--unitz', 'x']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/Unknown argument: unitz/);
  });

  it('no verb exits 2', async () => {
    const r = await cli([]);
    expect(r.exitCode).toBe(2);
  });

  it('a client verb with no launcher exits 3 with a hint', async () => {
    const dir = makeUnitDir({});
    cleanups.push(dir.cleanup);
    const r = await cli(['status', '--control', path.join(dir.dir, 'none.sock')]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('launcher up');
  });
});

describe('launcher check', () => {
  it('a good directory prints "N units OK" and exits 0', async () => {
    const dir = makeUnitDir({
      a: '[service]\nexec = ["node", "-e", "0"]\n[[socket]]\nlisten = "127.0.0.1:9701"\n',
      b: '[service]\nexec = "sleep 1"\n',
    });
    cleanups.push(dir.cleanup);
    const r = await cli(['check', '--units', dir.unitsDir]);
    expect(r).toMatchObject({ exitCode: 0, stdout: '2 units OK' });
  });

  it('LAUNCHER_UNITS names the directory when --units is absent', async () => {
    const dir = makeUnitDir({ a: '[service]\nexec = "sleep 1"\n' });
    cleanups.push(dir.cleanup);
    const r = await cli(['check'], { env: { LAUNCHER_UNITS: dir.unitsDir } });
    expect(r).toMatchObject({ exitCode: 0, stdout: '1 unit OK' });
  });

  it('a bad directory prints every error as file:line:col key: message and exits 2', async () => {
    const dir = makeUnitDir({
      web: '[service]\nexec = ["nod", "server.mjs"]\nready = "sometimes"\n',
      api: '[service]\nexec = "sleep 1"\n[[socket]]\nlisten = "127.0.0.1:99999"\n',
    });
    cleanups.push(dir.cleanup);
    const r = await cli(['check', '--units', dir.unitsDir], { cwd: dir.dir });
    expect(r.exitCode).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toContain('units/web.toml:2:8 [service].exec: "nod" not found in PATH');
    expect(lines.some((l) => l.startsWith('units/web.toml:3:') && l.includes('[service].ready') && l.includes('"sometimes"'))).toBe(true);
    expect(lines.some((l) => l.startsWith('units/api.toml:4:') && l.includes('[[socket]][0].listen') && l.includes('99999'))).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('the invalid corpus reports at least one error per file, each naming its file', async () => {
    const corpus = path.join(FIXTURES, 'units/invalid');
    // user-needs-root.toml is an error only for a non-root launcher (its unit test injects one).
    const files = readdirSync(corpus).filter((f) => f.endsWith('.toml') && !(f === 'user-needs-root.toml' && process.getuid?.() === 0));
    const r = await cli(['check', '--units', corpus]);
    expect(r.exitCode).toBe(2);
    for (const f of files) expect(r.stderr).toContain(`${f}`);
  });

  it('a missing directory is a unit error (exit 2), not a crash', async () => {
    const r = await cli(['check', '--units', '/nonexistent/units']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('/nonexistent/units');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
