// Podman for the container e2e tests: whether it can run here, the flags this
// machine needs (from ../shared/tools/podman-node-base when it exists), the Node
// base image to build examples/Dockerfile on, and a runner that never rejects.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './launcher.js';

/**
 * The tool that builds a local stand-in for node:*-slim and prints this machine's podman
 * flags (DESIGN.md "Containers for real"): env PODMAN_NODE_BASE, else ../shared beside the clone (as in CI).
 */
export const BASE_TOOL = process.env.PODMAN_NODE_BASE || path.resolve(ROOT, '../shared/tools/podman-node-base');
/** The image examples/Dockerfile builds FROM: env LAUNCHER_TEST_NODE_IMAGE, else the tool's local stand-in. */
export const NODE_IMAGE = process.env.LAUNCHER_TEST_NODE_IMAGE || 'localhost/node-base:local';

export interface PodmanResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** `podman --runtime runc ARGS` (crun fails on this machine's cgroup set-up; runc works everywhere). */
export async function podman(args: string[], timeoutMs = 60_000): Promise<PodmanResult> {
  const r = await execa('podman', ['--runtime', 'runc', ...args], { reject: false, timeout: timeoutMs, stdin: 'ignore' });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout).trim(), stderr: String(r.stderr).trim() };
}

/** Like `podman`, but throws with the command and its output unless it exits 0; resolves with stdout. */
export async function podmanOk(args: string[], timeoutMs = 60_000): Promise<string> {
  const r = await podman(args, timeoutMs);
  if (r.exitCode !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.exitCode}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** Why podman cannot run containers here (missing, or `podman info` fails), or null when it can. */
export async function podmanProblem(): Promise<string | null> {
  try {
    const r = await execa('podman', ['--runtime', 'runc', 'info', '--format', '{{.Host.OCIRuntime.Name}}'], { reject: false, timeout: 60_000 });
    if (r.exitCode === 0) return null;
    return `\`podman info\` failed: ${String(r.stderr).split('\n')[0]}`;
  } catch (error) {
    return `podman is not installed (${(error as Error).message.split('\n')[0]}); .ci/run installs it with apt-get`;
  }
}

/**
 * The ulimit flags `podman build` and `podman run` need here (podman's default limits exceed
 * this machine's hard limits), from the tool; none where the tool is absent (podman's defaults).
 */
export async function podmanFlags(): Promise<string[]> {
  if (!existsSync(BASE_TOOL)) {
    if (process.env.CI === 'true') throw new Error(`${BASE_TOOL} not found: CI runs with a copy of shared/ beside the clone`);
    return [];
  }
  const r = await execa(BASE_TOOL, ['--flags']);
  return String(r.stdout).trim().split(/\s+/).filter(Boolean);
}

/**
 * Makes sure NODE_IMAGE exists: present already, or built by BASE_TOOL (minutes:
 * debootstrap; .ci/run builds it before the tests). Throws saying what is missing.
 */
export async function ensureNodeImage(): Promise<void> {
  if ((await podman(['image', 'exists', NODE_IMAGE])).exitCode === 0) return;
  if (NODE_IMAGE !== 'localhost/node-base:local' || !existsSync(BASE_TOOL)) {
    throw new Error(`no image ${NODE_IMAGE}: set LAUNCHER_TEST_NODE_IMAGE to a node image with npm, or build the local one with ${BASE_TOOL}`);
  }
  await execa(BASE_TOOL, [], { timeout: 900_000 });
}

/** Pids, parents, states and command lines of every process in container `name` (read from its /proc by its node). */
export async function containerProcesses(name: string): Promise<{ pid: number; ppid: number; state: string; comm: string; cmdline: string }[]> {
  const script = `
const fs = require('fs');
const out = [];
for (const pid of fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p))) {
  try {
    const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    const close = stat.lastIndexOf(')');
    const [state, ppid] = stat.slice(close + 2).split(' ');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const cmdline = fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').split('\\0').join(' ').trim();
    out.push({ pid: +pid, ppid: +ppid, state, comm, cmdline });
  } catch {}
}
console.log(JSON.stringify(out));`;
  return JSON.parse(await podmanOk(['exec', name, 'node', '-e', script])) as Awaited<ReturnType<typeof containerProcesses>>;
}
