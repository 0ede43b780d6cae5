// End to end: the npm package as users get it. `npm pack` of this clone, installed
// from the tarball globally (into a clean prefix) and into a fresh project; each
// installed `launcher` command runs `launcher up` on the example units, serves,
// answers `status --check` and stops cleanly.
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cleanupLaunchers, httpGet, startLauncher, waitForHttp } from '../helpers/launcher.js';
import { freePort } from '../helpers/ports.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor, withDeadline } from '../helpers/wait.js';

const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const NPM_FLAGS = ['--no-audit', '--no-fund', '--loglevel=error'];
let tmp: ReturnType<typeof makeTmpDir>;
let tarball = '';

beforeAll(async () => {
  tmp = makeTmpDir('launcher-pack-');
  // dist/ is built by `npm test`'s pretest, like every e2e test's CLI; --ignore-scripts packs that build as is.
  const packed = await execa('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp.dir, ...NPM_FLAGS], { cwd: ROOT });
  tarball = path.join(tmp.dir, packed.stdout.trim().split('\n').at(-1)!);
  expect(path.basename(tarball)).toBe(`${PKG.name}-${PKG.version}.tgz`);
}, 120_000);
afterAll(() => tmp?.cleanup());
afterEach(cleanupLaunchers);

/** Copies the given files of `fromDir` into `toDir`, replacing each `from` port with the `to` port in .toml files. */
function copyUnits(fromDir: string, toDir: string, names: string[], ports: Record<string, number>): void {
  mkdirSync(toDir, { recursive: true });
  for (const name of names) {
    let text = readFileSync(path.join(fromDir, name), 'utf8');
    if (name.endsWith('.toml')) {
      for (const [from, to] of Object.entries(ports)) text = text.replace(`listen = "${from}"`, `listen = "127.0.0.1:${to}"`);
      expect(text).toMatch(/listen = "127\.0\.0\.1:\d+"/);
    }
    writeFileSync(path.join(toDir, name), text);
  }
}

/** Runs the installed `launcher status --check` against `control`; resolves with its exit code and output. */
async function check(bin: string, control: string): Promise<{ exitCode: number | undefined; output: string }> {
  const r = await execa(bin, ['status', '--check', '--control', control], { reject: false, all: true, timeout: 30_000 });
  return { exitCode: r.exitCode, output: String(r.all) };
}

/** Sends `line` to 127.0.0.1:port and resolves with the first data that comes back. */
function echoOnce(port: number, line: string): Promise<string> {
  return withDeadline(
    new Promise<string>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(line));
      socket.setEncoding('utf8');
      socket.once('data', (data: string) => {
        socket.destroy();
        resolve(data);
      });
      socket.on('error', reject);
    }),
    20_000,
    `an echo on port ${port}`,
  );
}

describe(`the packed npm package (${PKG.name})`, () => {
  it('installs globally into a clean prefix; its `launcher` command runs the container example units', async () => {
    const prefix = path.join(tmp.dir, 'global');
    await execa('npm', ['install', '--global', '--prefix', prefix, tarball, ...NPM_FLAGS], { timeout: 150_000 });
    const bin = path.join(prefix, 'bin', 'launcher');
    expect(existsSync(bin)).toBe(true);
    expect((await execa(bin, ['--version'])).stdout).toBe(PKG.version);

    const port = await freePort();
    const unitsDir = path.join(tmp.dir, 'global-app', 'units');
    copyUnits(path.join(ROOT, 'examples/units'), unitsDir, ['hello.toml', 'hello.mjs'], { '8080': port });
    const launcher = await startLauncher(unitsDir, { bin });
    expect(await waitForHttp(port, '/healthz', 30_000)).toBe('ok\n');
    expect((await httpGet(port)).body).toMatch(/^hello from pid \d+\n$/);
    // Healthy once the unit counts as ready (ready_after after its start), not merely serving.
    expect(await waitFor(async () => { const r = await check(bin, launcher.control); return r.exitCode === 0 ? r : undefined; }, { timeoutMs: 20_000, what: 'status --check to pass' })).toEqual({ exitCode: 0, output: '' });
    expect(await launcher.stop('SIGTERM', 30_000)).toBe(0);
  }, 240_000);

  it('installs into a project; the example units import `<package>/service` from it and serve', async () => {
    const project = path.join(tmp.dir, 'project');
    mkdirSync(project);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
    await execa('npm', ['install', tarball, ...NPM_FLAGS], { cwd: project, timeout: 150_000 });
    const bin = path.join(project, 'node_modules', '.bin', 'launcher');
    expect(JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8')).dependencies).toHaveProperty(PKG.name);

    const webPort = await freePort();
    const echoPort = await freePort();
    copyUnits(path.join(ROOT, 'units'), path.join(project, 'units'), ['web.toml', 'web.mjs', 'echo.toml', 'echo.mjs'], {
      '127.0.0.1:8080': webPort,
      '127.0.0.1:8081': echoPort,
    });
    expect(readFileSync(path.join(project, 'units/web.mjs'), 'utf8')).toContain(`from '${PKG.name}/service'`);
    const launcher = await startLauncher(path.join(project, 'units'), { bin });
    await launcher.waitForLine(/web\[\d+\]: #1: starting -> running \(READY=1\)/, 30_000);
    expect(await waitForHttp(webPort)).toMatch(/^hello from pid \d+\n$/);
    // echo is on demand: the first connection starts it, and it echoes.
    expect(await echoOnce(echoPort, 'ping\n')).toBe('ping\n');
    // Healthy once the unit counts as ready (ready_after after its start), not merely serving.
    expect(await waitFor(async () => { const r = await check(bin, launcher.control); return r.exitCode === 0 ? r : undefined; }, { timeoutMs: 20_000, what: 'status --check to pass' })).toEqual({ exitCode: 0, output: '' });
    expect(await launcher.stop('SIGTERM', 30_000)).toBe(0);
  }, 240_000);
});
