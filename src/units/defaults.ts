// Every default a unit file may omit, in one place (docs/units.md documents the same table).
import type { Handoff, ReadyMode, RestartPolicy, SocketType, StartMode, StdioMode } from './types.js';

/** Service defaults; durations in milliseconds. workdir defaults to the unit file's folder (not listed: it depends on the file). */
export const SERVICE_DEFAULTS = Object.freeze({
  ready: 'started' as ReadyMode,
  readyTimeoutMs: 30_000,
  readyAfterMs: 1_000,
  restart: 'on-failure' as RestartPolicy,
  restartDelayMs: 100,
  restartDelayMaxMs: 30_000,
  startLimitBurst: 5,
  startLimitIntervalMs: 10_000,
  stopSignal: 'SIGTERM' as NodeJS.Signals,
  stopTimeoutMs: 10_000,
  handoff: 'overlap' as Handoff,
  instances: 1,
  start: 'eager' as StartMode,
  watchdogMs: 0,
  logLines: 1000,
  fdStoreMax: 0,
  stdio: 'pipe' as StdioMode,
});

/** The most lines `log_lines` may keep in memory per unit. */
export const MAX_LOG_LINES = 1_000_000;

/** Socket defaults. The fd name defaults to the unit name (not listed: it depends on the unit). */
export const SOCKET_DEFAULTS = Object.freeze({
  type: 'stream' as SocketType,
  backlog: 4096,
  reusePort: false,
  ipv6Only: false,
  noDelay: false,
  keepAlive: false,
  nonBlocking: false,
  accept: false,
  maxConnections: 64,
});

/** The ad-hoc unit's name when `launcher run` gets no --name. */
export const AD_HOC_DEFAULT_NAME = 'run';
