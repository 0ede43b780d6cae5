// The keys a unit file may hold, per table: the source of truth for "unknown key" errors.

export const TOP_LEVEL_KEYS = ['description', 'service', 'socket'] as const;

export const SERVICE_KEYS = [
  'exec', 'workdir', 'env', 'env_file', 'user', 'group', 'ready', 'ready_timeout', 'ready_after', 'restart',
  'restart_delay', 'restart_delay_max', 'start_limit_burst', 'start_limit_interval', 'stop_signal',
  'stop_timeout', 'handoff', 'instances', 'start', 'watchdog', 'log_lines', 'fd_store_max', 'stdio',
] as const;

export const SOCKET_KEYS = [
  'listen', 'name', 'type', 'backlog', 'reuse_port', 'ipv6_only', 'no_delay', 'keep_alive',
  'non_blocking', 'mode', 'owner', 'group', 'accept', 'max_connections',
] as const;

/** The unit name is the file name; it must match this (SPEC.md). */
export const UNIT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]*$/;

/** The unit-name rule in words, for messages. */
export const UNIT_NAME_RULE = '[A-Za-z0-9][A-Za-z0-9_.@-]* (at most 255 characters)';

/** Whether `name` is a valid unit name (the file name of a unit, and what verbs accept). */
export function isUnitName(name: string): boolean {
  return name.length <= 255 && UNIT_NAME.test(name);
}

/** Where each key lives, written as the user would: for "did you mean `[service].exec`?". */
export const KEY_HOMES: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries(SOCKET_KEYS.map((key) => [key, `[[socket]].${key}`])),
  ...Object.fromEntries(SERVICE_KEYS.map((key) => [key, `[service].${key}`])), // `group` is both: prefer [service]
  description: 'description (at the top, before any table)',
});
