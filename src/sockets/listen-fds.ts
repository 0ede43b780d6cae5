// The socket-activation protocol (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES) in one
// place, as systemd keeps it in activate.c and sd-daemon.c: what the launcher
// writes for a child, and how a receiver reads it. Pure: no fd is touched and no
// environment is changed here. The launcher (sockets/inherited.ts) and
// `socket-launcher/service` (service/listeners.ts) read it the same way and differ
// only in what they do with a malformed value: the launcher warns and takes
// nothing, a service gets an error.

/** SD_LISTEN_FDS_START: the first passed fd; the others follow in order. */
export const LISTEN_FDS_START = 3;

/** The protocol's variables; a receiver unsets them all (sd_listen_fds(1)). */
export const LISTEN_VARIABLES = ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'] as const;

/** Separates LISTEN_FDNAMES entries, so a name never holds one. */
export const FDNAME_SEPARATOR = ':';

/** The name a receiver gives every fd when LISTEN_FDNAMES is unset or empty. */
export const UNNAMED = 'unknown';

/** One passed fd and its LISTEN_FDNAMES entry. */
export interface PassedListenFd {
  readonly fd: number;
  readonly name: string;
}

/**
 * LISTEN_FDS and LISTEN_FDNAMES for a child that gets one fd per name, at
 * LISTEN_FDS_START on; nothing for none (a manager never passes "0 fds"). LISTEN_PID
 * is not here: only the child's exec shim knows its pid (see pidVariables).
 */
export function listenEnv(names: readonly string[]): Record<string, string> {
  if (names.length === 0) return {};
  return { LISTEN_FDS: String(names.length), LISTEN_FDNAMES: names.join(FDNAME_SEPARATOR) };
}

/** The variable the exec shim sets to the child's own pid, when it gets fds. */
export function listenPidVariables(fdCount: number): string[] {
  return fdCount > 0 ? ['LISTEN_PID'] : [];
}

/** What a receiver finds in its environment. */
export type ListenFds =
  /** Nothing for this process. `stray` says why it is worth a word (LISTEN_FDS without LISTEN_PID); sd_listen_fds is silent. */
  | { readonly kind: 'none'; readonly stray?: string }
  | { readonly kind: 'passed'; readonly fds: readonly PassedListenFd[] }
  /** The variables are meant for this process (or cannot be attributed) but unusable: sd_listen_fds returns -EINVAL. */
  | { readonly kind: 'malformed'; readonly problem: string };

/** Plain decimal, at most 9 digits: "7" and "07" parse; "7x", "", "-1", " 7" do not. */
function parseDecimal(text: string): number | undefined {
  return /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}

/**
 * Reads LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES as sd_listen_fds_with_names() does:
 * no LISTEN_PID, or one that is not `pid`, is nothing (the fds were meant for another
 * process, a parent's are not ours); a LISTEN_PID or LISTEN_FDS that is not a positive
 * number, or a name count that differs from the fd count, is malformed. Names are all
 * UNNAMED when LISTEN_FDNAMES is unset or empty (libsystemd splits "" into no names).
 */
export function parseListenFds(env: NodeJS.ProcessEnv, pid: number): ListenFds {
  const pidText = env.LISTEN_PID;
  const countText = env.LISTEN_FDS;
  if (pidText === undefined) {
    return countText === undefined ? { kind: 'none' } : { kind: 'none', stray: `LISTEN_FDS=${countText} without LISTEN_PID` };
  }
  const owner = parseDecimal(pidText);
  if (owner === undefined || owner === 0) return { kind: 'malformed', problem: `invalid LISTEN_PID=${JSON.stringify(pidText)}` };
  if (owner !== pid || countText === undefined) return { kind: 'none' };
  const count = parseDecimal(countText);
  if (count === undefined || count === 0) return { kind: 'malformed', problem: `invalid LISTEN_FDS=${JSON.stringify(countText)}` };
  const namesText = env.LISTEN_FDNAMES;
  const names = namesText === undefined || namesText === '' ? new Array<string>(count).fill(UNNAMED) : namesText.split(FDNAME_SEPARATOR);
  if (names.length !== count) {
    return { kind: 'malformed', problem: `LISTEN_FDNAMES has ${names.length} names for LISTEN_FDS=${count}` };
  }
  return { kind: 'passed', fds: names.map((name, i) => ({ fd: LISTEN_FDS_START + i, name })) };
}
