// The deployment examples checked for real: examples/kubernetes.yaml against the
// Kubernetes schema (kubernetes-models) and what its probes and grace period must
// say; examples/systemd by `systemd-analyze verify`, and its units run behind
// systemd-socket-activate (the socket systemd would pass, as fd:web).
import { execa } from 'execa';
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import toml from 'toml';
import { parseAllDocuments } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { ROOT, httpGet } from '../helpers/launcher.js';
import { freePort } from '../helpers/ports.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupWrapped, startWrapped } from '../helpers/wrapped.js';

const EXAMPLES = path.join(ROOT, 'examples');
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await cleanupWrapped();
  cleanups.splice(0).forEach((c) => c());
});

/** The kubernetes-models class for each apiVersion/kind the example uses. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
};

/** Parses a multi-document YAML text and validates each document against its Kubernetes schema (throws on the first error). */
function validateManifests(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`document ${i}: ${doc.errors[0]!.message}`);
    const object = doc.toJS() as { apiVersion: string; kind: string };
    const Model = MODELS[`${object.apiVersion}/${object.kind}`];
    if (!Model) throw new Error(`document ${i}: no schema for ${object.apiVersion} ${object.kind}`);
    new Model(object as never).validate();
    return object as unknown as Record<string, unknown>;
  });
}

/** Seconds of a unit-file duration ("10s", "250ms", "5m", or a number of seconds). */
function seconds(value: string | number): number {
  if (typeof value === 'number') return value;
  const [, n, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value)!;
  return Number(n) * { ms: 0.001, s: 1, m: 60, h: 3600 }[unit ?? 's']!;
}

describe('examples/kubernetes.yaml', () => {
  const text = readFileSync(path.join(EXAMPLES, 'kubernetes.yaml'), 'utf8');

  it('is valid against the Kubernetes schema, and the check catches a wrong type', () => {
    const [deployment, service] = validateManifests(text);
    expect(deployment).toMatchObject({ kind: 'Deployment' });
    expect(service).toMatchObject({ kind: 'Service' });
    // The same validation rejects a broken copy: containerPort must be an integer.
    expect(() => validateManifests(text.replace('containerPort: 8080', 'containerPort: "8080"'))).toThrow(/containerPort must be integer/);
  });

  it('probes readiness with `launcher status --check` and liveness over HTTP; the grace period covers preStop + stop_timeout', () => {
    const [deployment] = validateManifests(text) as unknown as [InstanceType<typeof Deployment>];
    const pod = deployment.spec!.template.spec!;
    const [container] = pod.containers;
    expect(container!.readinessProbe!.exec!.command).toEqual(['launcher', 'status', '--check']);
    expect(container!.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container!.ports).toContainEqual({ name: 'http', containerPort: 8080 });
    // examples/units/hello.mjs answers /healthz; hello.toml listens on the container port.
    expect(readFileSync(path.join(EXAMPLES, 'units/hello.mjs'), 'utf8')).toContain("'/healthz'");
    const units = readdirSync(path.join(EXAMPLES, 'units')).filter((f) => f.endsWith('.toml'));
    const parsed = units.map((f) => toml.parse(readFileSync(path.join(EXAMPLES, 'units', f), 'utf8')));
    expect(parsed.flatMap((u) => u.socket ?? []).map((s: { listen: string }) => s.listen)).toContain('8080');
    // The image's user (Dockerfile USER node = uid 1000) is what runAsNonRoot can check.
    expect(container!.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    const largestStop = Math.max(...parsed.map((u) => seconds(u.service?.stop_timeout ?? '10s')));
    const preStop = container!.lifecycle!.preStop!.exec!.command!;
    expect(preStop[0]).toBe('sleep');
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(preStop[1]) + largestStop);
  });
});

describe('examples/systemd', () => {
  const files = ['launcher.socket', 'launcher.service'].map((f) => path.join(EXAMPLES, 'systemd', f));

  /** `systemd-analyze verify` of `paths`: its exit code and every warning it printed. */
  async function verify(paths: string[]): Promise<{ exitCode: number; output: string }> {
    const r = await execa('systemd-analyze', ['verify', '--man=no', ...paths], { reject: false, all: true });
    return { exitCode: r.exitCode ?? -1, output: String(r.all).trim() };
  }

  it('passes `systemd-analyze verify` without a warning, and a typo in a copy does not', async () => {
    expect(await verify(files)).toEqual({ exitCode: 0, output: '' });
    const tmp = makeTmpDir('launcher-systemd-');
    cleanups.push(tmp.cleanup);
    const copies = files.map((f) => path.join(tmp.dir, path.basename(f)));
    files.forEach((f, i) => copyFileSync(f, copies[i]!));
    writeFileSync(copies[1]!, readFileSync(files[1]!, 'utf8').replace('KillMode=mixed', 'KillMod=mixed'));
    expect((await verify(copies)).output).toMatch(/Unknown key 'KillMod'/);
  });

  it('runs its units on the socket systemd would pass (systemd-socket-activate, FileDescriptorName=web)', async () => {
    const socketUnit = readFileSync(files[0]!, 'utf8');
    expect(socketUnit).toMatch(/^FileDescriptorName=web$/m);
    const port = await freePort();
    const tmp = makeTmpDir('launcher-systemd-run-');
    cleanups.push(tmp.cleanup);
    const unitsDir = path.join(EXAMPLES, 'systemd/units');
    const launcher = await startWrapped(
      ['systemd-socket-activate', '-l', `127.0.0.1:${port}`, '--fdname=web'],
      ['up', '--units', unitsDir, '--control', path.join(tmp.dir, 'control.sock')],
      { cwd: tmp.dir, launcherIsChild: false, wait: null },
    );
    // The first connection makes the activator exec the launcher; it waits in the backlog meanwhile.
    const reply = await waitFor(() => httpGet(port, '/healthz', '127.0.0.1', 20_000), { timeoutMs: 30_000, what: `HTTP on ${port}` });
    expect(reply).toEqual({ status: 200, body: 'ok\n' });
    await launcher.waitForLine(/1 unit loaded/);
    expect(launcher.lines.join('\n')).not.toMatch(/used by no unit/);
    launcher.signal('SIGTERM');
    expect(await launcher.exited).toBe(0);
  });
});
