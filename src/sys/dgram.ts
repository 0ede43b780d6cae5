// Unix datagrams with ancillary data: recvmsg that returns the sender's
// credentials (SCM_CREDENTIALS) and any passed fds (SCM_RIGHTS), and a one-shot
// sendmsg for clients (sd_notify). struct msghdr, struct iovec and the cmsg
// headers are laid out by hand in Buffers; libc.addressOf() gives the Buffers'
// addresses, which stay valid because each call is synchronous and the Buffers
// are held in locals until it returns. Each call returns its result or -errno.
import * as libc from './libc.js';
import { E } from './errno.js';
import { AF_UNIX, encodeSockaddr, type SockAddr } from './sockaddr.js';
import {
  MSG_CMSG_CLOEXEC,
  MSG_CTRUNC,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  MSG_TRUNC,
  SCM_CREDENTIALS,
  SCM_RIGHTS,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOL_SOCKET,
} from './socket.js';

// The hand layout below is LP64 Linux (x86_64, aarch64, riscv64, ...): 8-byte pointers and
// size_t. libc.requireLp64 refuses anything else (LAUNCHER_UNSUPPORTED) before a first call.
const WORD = 8;
/** sizeof(struct msghdr): name, namelen(+pad), iov, iovlen, control, controllen, flags(+pad). */
const MSGHDR_SIZE = 56;
const MSGHDR_FLAGS_OFFSET = 48;
const MSGHDR_CONTROLLEN_OFFSET = 40;
const IOVEC_SIZE = 16;
/** sizeof(struct cmsghdr): size_t len, int level, int type; data follows, 8-aligned. */
const CMSG_HEADER = 16;
const UCRED_SIZE = 12;
/** Room for credentials plus up to 253 fds (the kernel's SCM_MAX_FD). */
const CONTROL_SIZE = cmsgSpace(UCRED_SIZE) + cmsgSpace(4 * 253);

function cmsgAlign(len: number): number {
  return (len + WORD - 1) & ~(WORD - 1);
}

function cmsgSpace(dataLen: number): number {
  return CMSG_HEADER + cmsgAlign(dataLen);
}

/** One received datagram and what came with it. */
export interface ReceivedDatagram {
  /** The payload, at most `maxBytes` long. */
  readonly data: Buffer;
  /** The datagram was longer than `maxBytes` (its tail is lost). */
  readonly truncated: boolean;
  /** Ancillary data did not fit: some passed fds were dropped (the kernel closes them). */
  readonly controlTruncated: boolean;
  /** Sender's credentials from SCM_CREDENTIALS; 0/-1/-1 when none came (SO_PASSCRED unset). */
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
  /** fds passed with SCM_RIGHTS, already CLOEXEC; the caller owns (and must close) them. */
  readonly fds: number[];
}

function msghdr(iov: Buffer, control: Buffer, name: Buffer | null): Buffer {
  const hdr = Buffer.alloc(MSGHDR_SIZE);
  if (name) {
    hdr.writeBigUInt64LE(libc.addressOf(name), 0);
    hdr.writeUInt32LE(name.length, 8);
  }
  hdr.writeBigUInt64LE(libc.addressOf(iov), 16);
  hdr.writeBigUInt64LE(1n, 24);
  if (control.length > 0) {
    hdr.writeBigUInt64LE(libc.addressOf(control), 32);
    hdr.writeBigUInt64LE(BigInt(control.length), MSGHDR_CONTROLLEN_OFFSET);
  }
  return hdr;
}

function iovec(data: Buffer, length: number): Buffer {
  const iov = Buffer.alloc(IOVEC_SIZE);
  // A zero-length Buffer may have no backing store; any valid address will do then.
  if (length > 0) iov.writeBigUInt64LE(libc.addressOf(data), 0);
  iov.writeBigUInt64LE(BigInt(length), 8);
  return iov;
}

/**
 * recvmsg(2) of one datagram without blocking: the datagram, or -errno (-EAGAIN when
 * nothing is queued). Received fds are CLOEXEC (MSG_CMSG_CLOEXEC) and belong to the
 * caller. `truncated` is exact: MSG_TRUNC makes the kernel report the real size.
 */
export function recvWithCredentials(fd: number, maxBytes: number): ReceivedDatagram | number {
  libc.requireLp64('recvmsg');
  const data = Buffer.alloc(Math.max(1, maxBytes));
  const control = Buffer.alloc(CONTROL_SIZE);
  const iov = iovec(data, maxBytes);
  const hdr = msghdr(iov, control, null);
  const ret = libc.recvmsg(fd, hdr, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
  if (ret < 0) return ret;
  const flags = hdr.readInt32LE(MSGHDR_FLAGS_OFFSET);
  const controlLen = Number(hdr.readBigUInt64LE(MSGHDR_CONTROLLEN_OFFSET));
  const ancillary = parseControl(control, controlLen);
  return {
    data: Buffer.from(data.subarray(0, Math.min(ret, maxBytes))),
    truncated: ret > maxBytes || (flags & MSG_TRUNC) !== 0,
    controlTruncated: (flags & MSG_CTRUNC) !== 0,
    ...ancillary,
  };
}

/** Walks the cmsg chain (CMSG_FIRSTHDR/CMSG_NXTHDR by hand). */
function parseControl(control: Buffer, controlLen: number): { pid: number; uid: number; gid: number; fds: number[] } {
  const out = { pid: 0, uid: -1, gid: -1, fds: [] as number[] };
  let offset = 0;
  while (offset + CMSG_HEADER <= controlLen) {
    const len = Number(control.readBigUInt64LE(offset));
    if (len < CMSG_HEADER || offset + len > controlLen) break;
    const level = control.readInt32LE(offset + 8);
    const type = control.readInt32LE(offset + 12);
    const dataStart = offset + CMSG_HEADER;
    const dataLen = len - CMSG_HEADER;
    if (level === SOL_SOCKET && type === SCM_CREDENTIALS && dataLen >= UCRED_SIZE) {
      out.pid = control.readInt32LE(dataStart);
      out.uid = control.readUInt32LE(dataStart + 4);
      out.gid = control.readUInt32LE(dataStart + 8);
    } else if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      for (let i = 0; i + 4 <= dataLen; i += 4) out.fds.push(control.readInt32LE(dataStart + i));
    }
    offset += cmsgAlign(len);
  }
  return out;
}

/** "/abs/path" or "@abstract" as a sockaddr; undefined for anything else (sd_notify's -EINVAL). */
export function unixAddress(address: string): SockAddr | undefined {
  if (address.startsWith('@') && address.length > 1) return { family: 'abstract', name: address.slice(1) };
  if (address.startsWith('/')) return { family: 'unix', path: address };
  return undefined;
}

function rightsControl(fds: readonly number[]): Buffer {
  if (fds.length === 0) return Buffer.alloc(0);
  const control = Buffer.alloc(cmsgSpace(4 * fds.length));
  control.writeBigUInt64LE(BigInt(CMSG_HEADER + 4 * fds.length), 0);
  control.writeInt32LE(SOL_SOCKET, 8);
  control.writeInt32LE(SCM_RIGHTS, 12);
  fds.forEach((fd, i) => control.writeInt32LE(fd, CMSG_HEADER + 4 * i));
  return control;
}

/**
 * Sends `data` as one datagram to the AF_UNIX SOCK_DGRAM socket at `address`
 * ("/path" or "@abstract") from a fresh socket, passing `fds` with SCM_RIGHTS if
 * given (the caller keeps its copies). Blocks, like sd_notify, while the receiver's
 * queue is full. Returns 0 once sent, or -errno as sd_notify does: -EINVAL for an
 * address of neither form, -ENOENT or -ECONNREFUSED when nobody receives there.
 */
export function sendDatagram(address: string, data: Buffer, options: { fds?: readonly number[] } = {}): number {
  const sockaddr = unixAddress(address);
  if (sockaddr === undefined) return -E.EINVAL;
  libc.requireLp64('sendmsg');
  const name = encodeSockaddr(sockaddr);
  const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fd;
  try {
    const payload = data.length > 0 ? data : Buffer.alloc(1);
    const iov = iovec(payload, data.length);
    const control = rightsControl(options.fds ?? []);
    const hdr = msghdr(iov, control, name);
    for (;;) {
      const ret = libc.sendmsg(fd, hdr, MSG_NOSIGNAL);
      if (ret >= 0) return 0;
      if (ret !== -E.EINTR) return ret;
    }
  } finally {
    libc.close(fd);
  }
}
