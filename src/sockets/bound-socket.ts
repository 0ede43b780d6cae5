// What a bound socket is to the rest of the launcher: a raw listening fd the
// launcher owns (never accepts on) plus what it was made from.
import type { SocketSpec } from '../units/types.js';

/** The unix socket file a bind created, identified by device and inode. */
export interface CreatedSocketFile {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

/**
 * A socket ready to hand to services. `fd` is CLOEXEC in the launcher (it reaches a
 * child only when passed on purpose) and already listening (stream/seqpacket) or bound
 * (datagram). Owned by whoever holds it until closeSocket().
 */
export interface BoundSocket {
  readonly fd: number;
  /** The unit that declared it. */
  readonly unit: string;
  readonly spec: SocketSpec;
  /** socketKey(spec): equal keys across a reload = this open socket may be kept. */
  readonly key: string;
  /** getsockname as text: "127.0.0.1:8080", "[::]:8080", "/run/app.sock", "@name". */
  readonly local: string;
  /** Set when the launcher created a socket file, so closeSocket removes only that file. */
  readonly createdFile?: CreatedSocketFile;
}
