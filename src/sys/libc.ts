// The native boundary, in one typed file (node-pty's model): koffi, the C library,
// every function declared from it and the constants it is called with. A call
// returns its result or -errno; nothing here decides what a failure means (callers
// turn -errno into their own errors: errors.ts's syscallError, sockets/bind-error.ts).
// koffi is loaded, and each function declared, on first use, not at import: a module
// that only may need a syscall (socket-launcher/service) costs nothing until it makes
// one. The only throw here is LAUNCHER_UNSUPPORTED, where no call can be made at all.
// The exec shim (supervisor/exec-shim.ts) runs in the child before execve and cannot
// import this file: its declarations and constants are generated from the ones here.
import { createRequire } from 'node:module';
import type { IKoffiLib } from 'koffi';
import { LauncherError } from '../errors.js';
import { E } from './errno.js';

export { E, errnoName } from './errno.js';

/** The C library's file name (glibc; musl provides the same name on Linux). */
export const LIBC_NAME = process.platform === 'linux' ? 'libc.so.6' : 'libc.so';

/** Every C function the launcher calls, by the name used here. The exec shim's are at the end. */
export const SIGNATURES = {
  close: 'int close(int fd)',
  fcntl: 'int fcntl(int fd, int cmd, int arg)',
  read: 'long read(int fd, _Out_ void *buf, unsigned long count)',
  write: 'long write(int fd, const void *buf, unsigned long count)',
  ioctlInt: 'int ioctl(int fd, unsigned long request, _Out_ int *value)',
  open: 'int open(const char *path, int flags, int mode)',
  pipe2: 'int pipe2(_Out_ int *fds, int flags)',
  dup3: 'int dup3(int oldfd, int newfd, int flags)',
  eventfd: 'int eventfd(unsigned int initval, int flags)',
  poll: 'int poll(_Inout_ void *fds, unsigned long nfds, int timeout)',
  socket: 'int socket(int domain, int type, int protocol)',
  setsockopt: 'int setsockopt(int fd, int level, int name, const void *value, uint32_t len)',
  getsockopt: 'int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *len)',
  bind: 'int bind(int fd, const void *addr, uint32_t len)',
  listen: 'int listen(int fd, int backlog)',
  connect: 'int connect(int fd, const void *addr, uint32_t len)',
  getsockname: 'int getsockname(int fd, _Out_ void *addr, _Inout_ uint32_t *len)',
  accept4: 'int accept4(int fd, _Out_ void *addr, _Inout_ uint32_t *len, int flags)',
  send: 'long send(int fd, const void *buf, unsigned long len, int flags)',
  recvmsg: 'long recvmsg(int fd, intptr_t msg, int flags)',
  sendmsg: 'long sendmsg(int fd, intptr_t msg, int flags)',
  prctl: 'int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)',
  prctlGetInt: 'int prctl(int option, _Out_ int *arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)',
  waitpid: 'int waitpid(int pid, _Out_ int *wstatus, int options)',
  getpid: 'int getpid(void)',
  // syscall(2) for calls libc does not wrap (kcmp). Fixed integer arguments, which x86_64 and
  // aarch64 Linux pass exactly as the variadic syscall() reads them.
  syscall5: 'long syscall(long number, int a1, int a2, int a3, unsigned long a4, unsigned long a5)',
  // An in-place upgrade: the launcher's state on an anonymous file, then execve (declared below).
  memfdCreate: 'int memfd_create(const char *name, unsigned int flags)',
  // The exec shim's, run in the child between fork and execve:
  execve: 'int execve(const char *path, const char **argv, const char **envp)',
  signal: 'void *signal(int sig, void *handler)',
  sigprocmask: 'int sigprocmask(int how, const void *set, void *old)',
  setgroups: 'int setgroups(size_t n, const uint32_t *list)',
  setgid: 'int setgid(uint32_t gid)',
  setuid: 'int setuid(uint32_t uid)',
} as const;

export type NativeName = keyof typeof SIGNATURES;

// fcntl(2)
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_DUPFD_CLOEXEC = 1030;
export const FD_CLOEXEC = 1;
// open(2) and friends (O_CLOEXEC is also SOCK_CLOEXEC and EFD_CLOEXEC; O_NONBLOCK likewise)
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_NOCTTY = 0o400;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
/** ioctl FIONREAD: bytes queued for reading. */
export const FIONREAD = 0x541b;
// signals, for the exec shim: every catchable one is reset, the mask emptied
export const SIG_SETMASK = 2;
/** Signals 1..NSIG_CLASSIC-1 are the classic ones a shim resets (real-time ones Node leaves alone). */
export const NSIG_CLASSIC = 32;
export const SIGKILL = 9;
export const SIGSTOP = 19;
/** sizeof(sigset_t) in glibc, with room to spare for the kernel's. */
export const SIGSET_BYTES = 128;
// prctl(2), waitpid(2)
export const PR_SET_CHILD_SUBREAPER = 36;
export const PR_GET_CHILD_SUBREAPER = 37;
export const WNOHANG = 1;
// syscall numbers of calls libc does not wrap
export const SYS_KCMP: Partial<Record<string, number>> = { x64: 312, arm64: 272, riscv64: 272 };
export const KCMP_FILE = 0;
/** pidfd_open and pidfd_getfd: the same number on every architecture (added after the syscall tables were unified). */
export const SYS_PIDFD_OPEN = 434;
export const SYS_PIDFD_GETFD = 438;
export const MFD_CLOEXEC = 1;

type Koffi = typeof import('koffi');
type KoffiFunction = ReturnType<IKoffiLib['func']>;

let koffi: Koffi | undefined;
let lib: IKoffiLib | undefined;
const declared = new Map<NativeName, KoffiFunction>();

function unsupported(why: string): LauncherError {
  return new LauncherError('LAUNCHER_UNSUPPORTED', `the launcher's native part cannot run here: ${why}`, {
    received: `${process.platform}/${process.arch}`,
  });
}

/** koffi itself, loaded on first use. Throws LAUNCHER_UNSUPPORTED off Linux or when koffi is missing. */
function native(): Koffi {
  if (koffi) return koffi;
  if (process.platform !== 'linux') throw unsupported('it needs Linux');
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (error) {
    throw unsupported(`koffi cannot be loaded (${(error as Error).message})`);
  }
  return koffi;
}

function fn(name: NativeName): KoffiFunction {
  let f = declared.get(name);
  if (f === undefined) {
    lib ??= native().load(LIBC_NAME);
    f = lib.func(SIGNATURES[name]);
    declared.set(name, f);
  }
  return f;
}

/** Runs a declared function: its result, or -errno (read right after the call, on this thread). */
function call(name: NativeName, ...args: unknown[]): number {
  const ret = Number(fn(name)(...args));
  return ret >= 0 ? ret : -native().errno();
}

/**
 * Throws LAUNCHER_UNSUPPORTED unless pointers and size_t are 8 bytes (LP64 Linux: x86_64,
 * aarch64, riscv64): structs laid out by hand in Buffers (msghdr, cmsghdr) assume it.
 */
export function requireLp64(what: string): void {
  const k = native();
  if (k.sizeof('void *') !== 8 || k.sizeof('size_t') !== 8) throw unsupported(`${what} supports 64-bit Linux only`);
}

/** The address of a Buffer's memory, for pointer fields of hand-laid structs. Valid while the Buffer is held. */
export function addressOf(buf: Buffer): bigint {
  return native().address(buf);
}

// ---- fds ----

/** close(2): 0 or -errno (after EINTR or EBADF the fd is gone either way). */
export function close(fd: number): number {
  return call('close', fd);
}

/** fcntl(2) with an int argument: its result or -errno. */
export function fcntl(fd: number, cmd: number, arg = 0): number {
  return call('fcntl', fd, cmd, arg);
}

/** The fd flags (FD_CLOEXEC) or -errno (EBADF: not open). */
export function getFdFlags(fd: number): number {
  return fcntl(fd, F_GETFD);
}

/** Sets or clears `bit` in the flags fcntl `get` reads and `set` writes; no write when already so: 0 or -errno. */
function setFlag(fd: number, get: number, set: number, bit: number, on: boolean): number {
  const flags = fcntl(fd, get);
  if (flags < 0) return flags;
  const next = on ? flags | bit : flags & ~bit;
  return next === flags ? 0 : fcntl(fd, set, next);
}

/** Sets or clears FD_CLOEXEC: 0 or -errno. */
export function setCloexec(fd: number, on: boolean): number {
  return setFlag(fd, F_GETFD, F_SETFD, FD_CLOEXEC, on);
}

/** The file status flags (O_NONBLOCK, ...) or -errno. */
export function getStatusFlags(fd: number): number {
  return fcntl(fd, F_GETFL);
}

/** Sets or clears O_NONBLOCK on the open file (shared by every process holding it): 0 or -errno. */
export function setNonBlocking(fd: number, on: boolean): number {
  return setFlag(fd, F_GETFL, F_SETFL, O_NONBLOCK, on);
}

/** write(2) of a whole small buffer: bytes written or -errno. */
export function write(fd: number, buf: Buffer): number {
  return call('write', fd, buf, buf.length);
}

/** read(2) into buf: bytes read or -errno. */
export function read(fd: number, buf: Buffer): number {
  return call('read', fd, buf, buf.length);
}

/** Bytes waiting to be read on a socket or pipe (ioctl FIONREAD), or -errno (ENOTTY for other kinds of fd). */
export function unreadBytes(fd: number): number {
  const out = [0];
  const ret = call('ioctlInt', fd, FIONREAD, out);
  return ret < 0 ? ret : (out[0] ?? 0);
}

/** open(2): the new fd or -errno. */
export function open(path: string, flags: number, mode = 0): number {
  return call('open', path, flags, mode);
}

/** pipe2(2): `[readEnd, writeEnd]` or -errno. */
export function pipe2(flags: number): [number, number] | number {
  const fds = [0, 0];
  const ret = call('pipe2', fds, flags);
  return ret < 0 ? ret : [fds[0] as number, fds[1] as number];
}

/** dup3(2): `newfd` or -errno. */
export function dup3(oldfd: number, newfd: number, flags = 0): number {
  return call('dup3', oldfd, newfd, flags);
}

/** eventfd(2): the new fd or -errno. */
export function eventfd(initval: number, flags: number): number {
  return call('eventfd', initval, flags);
}

/**
 * poll(2) on a koffi worker thread (the main thread goes on); `done(ret)` runs on the main
 * thread with poll's result, or a negative number when it failed: errno lives on the worker
 * thread and cannot be read here.
 */
export function pollAsync(fds: Buffer, nfds: number, timeoutMs: number, done: (ret: number) => void): void {
  fn('poll').async(fds, nfds, timeoutMs, (err: unknown, ret: number) => done(err ? -1 : ret));
}

// ---- sockets (addresses as encoded struct sockaddr Buffers: see sockaddr.ts) ----

/** socket(2): the new fd or -errno. */
export function socket(domain: number, type: number, protocol = 0): number {
  return call('socket', domain, type, protocol);
}

/** setsockopt(2) with `value` as the option's bytes: 0 or -errno. */
export function setsockopt(fd: number, level: number, name: number, value: Buffer): number {
  return call('setsockopt', fd, level, name, value, value.length);
}

/** getsockopt(2) into `value`: the option's length or -errno. */
export function getsockopt(fd: number, level: number, name: number, value: Buffer): number {
  const len = [value.length];
  const ret = call('getsockopt', fd, level, name, value, len);
  return ret < 0 ? ret : (len[0] ?? 0);
}

/** bind(2): 0 or -errno. */
export function bind(fd: number, sockaddr: Buffer): number {
  return call('bind', fd, sockaddr, sockaddr.length);
}

/** listen(2): 0 or -errno. */
export function listen(fd: number, backlog: number): number {
  return call('listen', fd, backlog);
}

/** connect(2): 0 or -errno. */
export function connect(fd: number, sockaddr: Buffer): number {
  return call('connect', fd, sockaddr, sockaddr.length);
}

/** getsockname(2) into `sockaddr`: the address's length or -errno. */
export function getsockname(fd: number, sockaddr: Buffer): number {
  const len = [sockaddr.length];
  const ret = call('getsockname', fd, sockaddr, len);
  return ret < 0 ? ret : (len[0] ?? 0);
}

/** accept4(2): the new fd and the peer's address length (into `sockaddr`, when given), or -errno. */
export function accept4(fd: number, sockaddr: Buffer | null, flags: number): { fd: number; addressLength: number } | number {
  const len = [sockaddr?.length ?? 0];
  const ret = call('accept4', fd, sockaddr, sockaddr ? len : null, flags);
  return ret < 0 ? ret : { fd: ret, addressLength: len[0] ?? 0 };
}

/** send(2): bytes sent or -errno. */
export function send(fd: number, buf: Buffer, flags: number): number {
  return call('send', fd, buf, buf.length, flags);
}

/** recvmsg(2) with a struct msghdr at `msghdr` (see dgram.ts): bytes received or -errno. */
export function recvmsg(fd: number, msghdr: Buffer, flags: number): number {
  return call('recvmsg', fd, addressOf(msghdr), flags);
}

/** sendmsg(2) with a struct msghdr at `msghdr`: bytes sent or -errno. */
export function sendmsg(fd: number, msghdr: Buffer, flags: number): number {
  return call('sendmsg', fd, addressOf(msghdr), flags);
}

// ---- processes ----

/** prctl(2) with integer arguments: its result or -errno. */
export function prctl(option: number, arg2 = 0): number {
  return call('prctl', option, arg2, 0, 0, 0);
}

/** prctl(2) for an option that writes an int through arg2 (PR_GET_*): that int or -errno. */
export function prctlGetInt(option: number): number {
  const out = [0];
  const ret = call('prctlGetInt', option, out, 0, 0, 0);
  return ret < 0 ? ret : (out[0] ?? 0);
}

/** waitpid(2): the pid reaped (0: none yet, under WNOHANG) and its wait status, or -errno. */
export function waitpid(pid: number, options: number): { pid: number; status: number } | number {
  const out = [0];
  const ret = call('waitpid', pid, out, options);
  return ret < 0 ? ret : { pid: ret, status: out[0] ?? 0 };
}

/** getpid(2) straight from the kernel (in a pid namespace as PID 1 this is 1; Node's process.pid may be cached). */
export function getpid(): number {
  return call('getpid');
}

/** memfd_create(name, MFD_CLOEXEC): an anonymous in-memory file, or -errno. */
export function memfdCreate(name: string): number {
  return call('memfdCreate', name, MFD_CLOEXEC);
}

/** execve(2): returns only on failure, with -errno; the fds without FD_CLOEXEC stay open in the new program. */
export function execve(file: string, argv: readonly string[], envp: readonly string[]): number {
  return call('execve', file, [...argv, null], [...envp, null]);
}

/** pidfd_open(pid, 0): a pidfd (close-on-exec), or -errno. */
export function pidfdOpen(pid: number): number {
  return call('syscall5', SYS_PIDFD_OPEN, pid, 0, 0, 0, 0);
}

/**
 * pidfd_getfd(pidfd, fd, 0): this process's copy (close-on-exec) of fd `fd` of the process
 * behind `pidfd`, the same open file; or -errno (EPERM where ptrace access is not allowed).
 */
export function pidfdGetfd(pidfd: number, fd: number): number {
  return call('syscall5', SYS_PIDFD_GETFD, pidfd, fd, 0, 0, 0);
}

/** kcmp(2): 0 when equal, 1 or 2 for an order, 3 when not comparable, or -errno (ENOSYS: no kcmp here). */
export function kcmp(pid1: number, pid2: number, type: number, idx1: number, idx2: number): number {
  const nr = SYS_KCMP[process.arch];
  if (nr === undefined) return -E.ENOSYS;
  return call('syscall5', nr, pid1, pid2, type, idx1, idx2);
}
