// How a service is exec'd so that LISTEN_PID (and WATCHDOG_PID) hold its OWN pid,
// which is unknown before fork: a tiny shim sets them to its pid and execs in place.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { LISTEN_FDS_START } from '../sockets/listen-fds.js';
import { E } from '../sys/errno.js';
import {
  FD_CLOEXEC,
  F_SETFD,
  LIBC_NAME,
  NSIG_CLASSIC,
  SIGKILL,
  SIGSTOP,
  SIGNATURES,
  SIGSET_BYTES,
  SIG_SETMASK,
  type NativeName,
} from '../sys/libc.js';
import type { ServiceSpec } from '../units/types.js';

/** Which exec shim to use: /bin/sh where it exists, else Node + execve via koffi (distroless). */
export type ShimKind = 'sh' | 'node';

/** The program execa runs, its arguments and the argv[0] it should see. */
export interface ExecCommand {
  readonly file: string;
  readonly args: readonly string[];
  /** argv[0] of the started process, when it differs from `file`. */
  readonly argv0?: string;
}

const SHELL = '/bin/sh';

let shimOfThisSystem: ShimKind | undefined;

/** The shim used when the caller does not choose one (looked up once per process). */
function defaultShim(): ShimKind {
  shimOfThisSystem ??= existsSync(SHELL) ? 'sh' : 'node';
  return shimOfThisSystem;
}

let koffiPath: string | undefined;

/** Exit statuses of a command that could not run, as a shell reports them. */
export const EXIT_NOT_FOUND = 127;
export const EXIT_CANNOT_EXECUTE = 126;

/**
 * Run by `node -e` as the service's pid-to-be: sets each named variable to its own pid,
 * undoes what Node changed that exec would keep — Node marks fds 0-2 close-on-exec at
 * start-up (so F_SETFD 0 on them and on the LISTEN_FDS sockets) and Node 24 leaves an fd of its
 * own without close-on-exec (so F_SETFD FD_CLOEXEC on every other fd), ignores SIGPIPE, may
 * block signals — then, given ids "uid:gid:g1,g2", sets the supplementary groups, gid and uid (in
 * that order, while still root) — then execve()s the service. It only returns if a step failed:
 * exit 127 like a shell for a missing program, else 126.
 * argv: koffiPath, "NAME:NAME", ids ("" or "uid:gid:g1,g2"), file, argv0, args...
 *
 * It runs in the child and cannot import src/sys/libc.ts, so the library, the declarations
 * and every number it uses are written into the source from there.
 */
function nodeShimSource(): string {
  const decl = (name: NativeName): string => `libc.func(${JSON.stringify(SIGNATURES[name])})`;
  return `
const [koffiPath, names, ids, file, argv0, ...args] = process.argv.slice(1);
const koffi = require(koffiPath);
const libc = koffi.load(${JSON.stringify(LIBC_NAME)});
const execve = ${decl('execve')};
const signal = ${decl('signal')};
const sigprocmask = ${decl('sigprocmask')};
const fcntl = ${decl('fcntl')};
const passed = ${LISTEN_FDS_START} + (Number(process.env.LISTEN_FDS) || 0);
for (let fd = 0; fd < passed; fd++) fcntl(fd, ${F_SETFD}, 0);
for (const name of require('node:fs').readdirSync('/proc/self/fd')) if (Number(name) >= passed) fcntl(Number(name), ${F_SETFD}, ${FD_CLOEXEC});
for (let sig = 1; sig < ${NSIG_CLASSIC}; sig++) if (sig !== ${SIGKILL} && sig !== ${SIGSTOP}) signal(sig, null);
sigprocmask(${SIG_SETMASK}, Buffer.alloc(${SIGSET_BYTES}), null);
if (ids) {
  const [uid, gid, groups] = ids.split(':');
  const list = groups ? groups.split(',').map(Number) : [];
  const fail = (what) => { process.stderr.write('launcher exec shim: ' + what + ' failed: errno ' + koffi.errno() + '\\n'); process.exit(${EXIT_CANNOT_EXECUTE}); };
  if (${decl('setgroups')}(list.length, list) !== 0) fail('setgroups');
  if (gid !== '' && ${decl('setgid')}(Number(gid)) !== 0) fail('setgid');
  if (uid !== '' && ${decl('setuid')}(Number(uid)) !== 0) fail('setuid');
}
const env = { ...process.env };
for (const name of names.split(':').filter(Boolean)) env[name] = String(process.pid);
const envp = Object.entries(env).map(([k, v]) => k + '=' + v);
execve(file, [argv0, ...args, null], [...envp, null]);
const errno = koffi.errno();
const errnos = require('node:os').constants.errno;
const errnoName = Object.keys(errnos).find((k) => errnos[k] === errno) || 'errno ' + errno;
process.stderr.write('launcher exec shim: ' + file + ': ' + errnoName + '\\n');
process.exit(errno === ${E.ENOENT} ? ${EXIT_NOT_FOUND} : ${EXIT_CANNOT_EXECUTE});
`;
}

let nodeShim: string | undefined;

/**
 * The command that starts `service` with `pidVariables` set to the service's own pid.
 * No variables → the program itself (argv[0] = exec[0] as written). 'sh' →
 * `/bin/sh -c 'NAME=$$; export NAME; exec "$0" "$@"' execPath args…` (the shell's pid
 * survives exec; argv[0] becomes execPath because dash has no `exec -a`). 'node' →
 * process.execPath -e <shim> … which keeps argv[0] = exec[0]. A missing program exits 127.
 * `ids` ("uid:gid:g1,g2", see spawn-identity.ts) forces the Node shim, which sets them before
 * execve: libuv's own uid/gid switch drops every supplementary group.
 */
export function execCommand(service: ServiceSpec, pidVariables: readonly string[], shim: ShimKind = defaultShim(), ids = ''): ExecCommand {
  const args = service.exec.slice(1);
  const argv0 = service.exec[0] ?? service.execPath;
  if (ids !== '') shim = 'node'; // only it can set supplementary groups
  else if (pidVariables.length === 0) return { file: service.execPath, args, argv0 };
  if (shim === 'sh') {
    const assignments = pidVariables.map((name) => `${name}=$$; export ${name}; `).join('');
    return { file: SHELL, args: ['-c', `${assignments}exec "$0" "$@"`, service.execPath, ...args] };
  }
  koffiPath ??= createRequire(import.meta.url).resolve('koffi');
  nodeShim ??= nodeShimSource();
  return { file: process.execPath, args: ['-e', nodeShim, '--', koffiPath, pidVariables.join(':'), ids, service.execPath, argv0, ...args] };
}
