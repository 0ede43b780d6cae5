// The validated, resolved form of a unit file: what every later stage reads.
// Objects are readonly and hold absolute paths, milliseconds and resolved
// values, so no consumer re-parses strings or re-reads the unit file.

/** Where a socket listens, parsed from `listen`. */
export type ListenAddress =
  /** TCP/UDP. host null = all addresses ("8080": [::] dual-stack, or 0.0.0.0 without IPv6). */
  | { readonly kind: 'inet'; readonly host: string | null; readonly port: number; readonly family: 4 | 6 | 'any' }
  /** A unix socket file; `path` is absolute (unix:relative is resolved against the unit's folder). */
  | { readonly kind: 'unix'; readonly path: string }
  /** A Linux abstract unix socket; `name` excludes the leading "@". */
  | { readonly kind: 'abstract'; readonly name: string }
  /** A socket the launcher itself inherited by LISTEN_FDS, by its LISTEN_FDNAMES name. */
  | { readonly kind: 'fd'; readonly name: string };

export type SocketType = 'stream' | 'datagram' | 'seqpacket';

export interface SocketSpec {
  /** The `listen` string as written in the file (for messages and status). */
  readonly listenText: string;
  readonly listen: ListenAddress;
  /** LISTEN_FDNAMES entry; default the unit name. */
  readonly name: string;
  readonly type: SocketType;
  readonly backlog: number;
  readonly reusePort: boolean;
  readonly ipv6Only: boolean;
  readonly noDelay: boolean;
  readonly keepAlive: boolean;
  readonly nonBlocking: boolean;
  /** The launcher accepts and runs one service process per connection (systemd's Accept=yes). */
  readonly accept: boolean;
  /** With accept: at most this many connections' processes at once; more wait in the backlog. */
  readonly maxConnections: number;
  /** unix socket file mode (e.g. 0o660); undefined = leave umask's result. */
  readonly mode?: number;
  /** unix socket file owner/group as given (name or numeric string). */
  readonly owner?: string;
  readonly group?: string;
}

export type ReadyMode = 'started' | 'notify';
export type RestartPolicy = 'no' | 'on-failure' | 'always';
export type Handoff = 'overlap' | 'stop-first';
export type StartMode = 'eager' | 'on-demand';
export type StdioMode = 'pipe' | 'socket';

export interface ServiceSpec {
  /** argv as written (exec[0] possibly a bare name). */
  readonly exec: readonly string[];
  /** exec[0] resolved to an absolute path at load time. */
  readonly execPath: string;
  /** Absolute working directory. */
  readonly workdir: string;
  /** env_file entries, then `env` entries on top (env wins); added to the launcher's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Absolute path of env_file, when given. */
  readonly envFile?: string;
  readonly user?: string;
  readonly group?: string;
  readonly ready: ReadyMode;
  readonly readyTimeoutMs: number;
  /**
   * With ready = "started": a new child counts as ready once it has stayed up this long
   * (einhorn's timer ACK); 0 = at once. Ignored with ready = "notify".
   */
  readonly readyAfterMs: number;
  readonly restart: RestartPolicy;
  readonly restartDelayMs: number;
  readonly restartDelayMaxMs: number;
  readonly startLimitBurst: number;
  readonly startLimitIntervalMs: number;
  /** e.g. "SIGTERM". */
  readonly stopSignal: NodeJS.Signals;
  readonly stopTimeoutMs: number;
  readonly handoff: Handoff;
  readonly instances: number;
  readonly start: StartMode;
  /** 0 = off. */
  readonly watchdogMs: number;
  /** Lines of output (and launcher events) kept in memory for `launcher logs`; 0 keeps none. */
  readonly logLines: number;
  /** fds the service may hand the launcher to keep per instance (FDSTORE=1); 0 = none. */
  readonly fdStoreMax: number;
  /** "socket": with an accept = true socket, the connection is also fds 0 and 1 (inetd style). */
  readonly stdio: StdioMode;
}

export interface Unit {
  /** The file name without ".toml". */
  readonly name: string;
  /** Absolute path of the unit file. */
  readonly file: string;
  readonly description?: string;
  readonly service: ServiceSpec;
  /** In file order: fds 3, 4, ... */
  readonly sockets: readonly SocketSpec[];
}
