// A copy of the built CLI that any uid can run: dist/, package.json and the production
// dependencies copied to a fresh world-readable folder. Tests that run the CLI as another
// user (nobody) need it, because the clone may live under a 0700 folder (a home directory).
import { execa } from 'execa';
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface PortableCli {
  /** The copied entry point: `node <cli> status ...`. */
  readonly cli: string;
  readonly cleanup: () => void;
}

/** Copies the CLI built in `root` (npm test builds it first) to a 0755 folder under the system temp dir. */
export async function portableCli(root: string): Promise<PortableCli> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'launcher-cli-'));
  chmodSync(dir, 0o755);
  const { stdout } = await execa('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, reject: false });
  const packages = stdout.split('\n').filter((p) => p.startsWith(path.join(root, 'node_modules') + path.sep));
  for (const from of [path.join(root, 'dist'), path.join(root, 'package.json'), ...packages]) {
    cpSync(from, path.join(dir, path.relative(root, from)), { recursive: true });
  }
  // Copies keep the clone's modes; the folders npm made for scoped packages are new, and 0700 under umask 077.
  await execa('chmod', ['-R', 'a+rX', dir]);
  return { cli: path.join(dir, 'dist/cmd/launcher.cjs'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
