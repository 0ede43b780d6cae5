// The real programs no one here wrote that the tests drive (Debian packages that `.ci/run`
// installs). Under CI a missing one fails its tests, so a broken install step cannot hide;
// elsewhere (a fresh machine with only Node and npm) those tests skip, each naming the package
// to install, and the run ends with a summary of what was skipped and why (test/global-setup.ts).
import { execFileSync } from 'node:child_process';
import { accessSync, appendFileSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Each peer: the Debian packages that bring it, and how to tell it is here. */
const PEERS = {
  'python3-systemd': { install: 'python3-systemd', present: () => runs('/usr/bin/python3', ['-c', 'import systemd.daemon']) },
  python3: { install: 'python3', present: () => executable('/usr/bin/python3') },
  gunicorn: { install: 'gunicorn', present: () => executable('/usr/bin/gunicorn') },
  lighttpd: { install: 'lighttpd', present: () => executable('/usr/sbin/lighttpd') },
  libsystemd: { install: 'gcc libsystemd-dev', present: () => onPath('gcc') && exists('/usr/include/systemd/sd-daemon.h') },
  systemd: { install: 'systemd', present: () => onPath('systemd-notify') && onPath('systemd-socket-activate') },
  wrk: { install: 'wrk', present: () => onPath('wrk') },
} as const;

export type Peer = keyof typeof PEERS;

const known = new Map<Peer, boolean>();

function exists(file: string): boolean {
  try {
    accessSync(file, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && executable(path.join(dir, name)));
}

function runs(file: string, args: string[]): boolean {
  try {
    execFileSync(file, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `peer` is installed (checked once per process). LAUNCHER_TEST_HIDE_PEERS
 * (comma-separated names) pretends peers are missing, to check this policy itself.
 */
export function hasPeer(peer: Peer): boolean {
  if ((process.env.LAUNCHER_TEST_HIDE_PEERS ?? '').split(',').includes(peer)) return false;
  let here = known.get(peer);
  if (here === undefined) {
    here = PEERS[peer].present();
    known.set(peer, here);
  }
  return here;
}

/** "gunicorn is missing (apt-get install gunicorn)" for the first missing peer, or undefined. */
export function missingPeer(...peers: Peer[]): string | undefined {
  const gone = peers.find((p) => !hasPeer(p));
  return gone === undefined ? undefined : `${gone} is missing (apt-get install ${PEERS[gone].install})`;
}

/** The part of vitest's test context this needs. */
interface Skippable {
  skip(note?: string): void;
  task: { name: string };
}

/**
 * Call first in a test that drives `peers`: returns when all are installed. Otherwise, under
 * CI (CI=true) it throws (the test fails), and elsewhere it skips the test, recording why for
 * the run's closing summary.
 */
export function requirePeers(context: Skippable, ...peers: Peer[]): void {
  const why = missingPeer(...peers);
  if (why === undefined) return;
  if (process.env.CI) throw new Error(`${why}: CI installs every peer (.ci/run), so this is a broken install step`);
  const log = process.env.LAUNCHER_PEER_SKIPS;
  if (log) appendFileSync(log, `${why}\t${context.task.name}\n`);
  context.skip(why);
}

/**
 * Compiles `source`, a C client linked with libsystemd, into a fresh temp folder. Where gcc or
 * libsystemd-dev is missing it builds nothing and `path` is '' (the tests that run it call
 * requirePeers(context, 'libsystemd') first). `cleanup` removes the folder.
 */
export async function buildLibsystemdClient(source: string): Promise<{ path: string; cleanup: () => void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'launcher-cclient-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  if (!hasPeer('libsystemd')) return { path: '', cleanup };
  const binary = path.join(dir, path.basename(source, '.c'));
  execFileSync('gcc', ['-O0', '-o', binary, source, '-lsystemd'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { path: binary, cleanup };
}
