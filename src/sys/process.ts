// Process-level calls the launcher needs as PID 1 or subreaper: prctl for the
// child-subreaper bit, waitpid(WNOHANG) for one known pid, and /proc readers that
// list this process's direct children and their states without reaping anything.
// Each call returns its result or -errno.
import { readFileSync, readdirSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as libc from './libc.js';
import { E } from './errno.js';

export { getpid } from './libc.js';

/** How a reaped process ended: exactly one of code/signal is non-null (like ExitStatus). */
export interface WaitResult {
  readonly pid: number;
  /** The raw wait status, for logs. */
  readonly status: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * Makes orphaned descendants re-parent to this process instead of PID 1
 * (prctl PR_SET_CHILD_SUBREAPER). Inherited by nothing: only this process.
 * 0 or -errno (EINVAL: a kernel without the feature).
 */
export function setChildSubreaper(): number {
  return libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1);
}

/** Whether this process is currently a child subreaper, or -errno. */
export function isChildSubreaper(): boolean | number {
  const ret = libc.prctlGetInt(libc.PR_GET_CHILD_SUBREAPER);
  return ret < 0 ? ret : ret !== 0;
}

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(osConstants.signals).map(([name, value]) => [value, name as NodeJS.Signals]),
);

/** Splits a wait status into exit code or terminating signal (WIFEXITED / WTERMSIG). */
export function decodeWaitStatus(status: number): { code: number | null; signal: NodeJS.Signals | null } {
  const termsig = status & 0x7f;
  if (termsig === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: signalNames.get(termsig) ?? (`SIG${termsig}` as NodeJS.Signals) };
}

/**
 * waitpid(pid, WNOHANG): reaps `pid` if it has ended and returns how; null when it is
 * still running or is not our child (ECHILD: someone else reaped it already); -errno for
 * any other failure (EINVAL for a pid that is not positive: waitpid(0 or -1) would reap
 * any child, libuv's too). Only ever call it with a pid nobody else (libuv) waits for, or
 * that waiter loses the exit status.
 */
export function waitpidNoHang(pid: number): WaitResult | null | number {
  if (!Number.isInteger(pid) || pid <= 0) return -E.EINVAL;
  for (;;) {
    const ret = libc.waitpid(pid, libc.WNOHANG);
    if (typeof ret !== 'number') return ret.pid === 0 ? null : { pid: ret.pid, status: ret.status, ...decodeWaitStatus(ret.status) };
    if (ret === -E.EINTR) continue;
    return ret === -E.ECHILD ? null : ret;
  }
}

/** One line of /proc/<pid>/stat, the fields the reaper needs. */
export interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  /** R, S, D, Z (zombie), T, t, X, I, ... */
  readonly state: string;
  readonly ppid: number;
  /** Its process group id. */
  readonly pgrp: number;
  /** When it started, in clock ticks since boot (field 22): with the pid, names one process for ever. */
  readonly startTime: number;
}

/** Reads /proc/<pid>/stat; undefined when the process is gone (or fully reaped). */
export function readProcStat(pid: number | 'self'): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: it runs from the first '(' to the LAST ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    startTime: Number(rest[19]),
  };
}

/**
 * The pids of this process's direct children (every thread's, since a child
 * belongs to the thread that forked it and orphans join any live thread).
 * Uses /proc/self/task/<tid>/children; on kernels without it, scans /proc for ppid.
 */
export function childPids(): number[] {
  const pids = new Set<number>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    tids = [];
  }
  let sawChildrenFile = false;
  for (const tid of tids) {
    let text: string;
    try {
      text = readFileSync(`/proc/self/task/${tid}/children`, 'latin1');
    } catch {
      continue; // the thread ended, or CONFIG_PROC_CHILDREN is off
    }
    sawChildrenFile = true;
    for (const word of text.split(' ')) if (word.trim()) pids.add(Number(word));
  }
  if (!sawChildrenFile) return childPidsByScan();
  return [...pids];
}

function childPidsByScan(): number[] {
  const self = libc.getpid();
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat?.ppid === self) pids.push(stat.pid);
  }
  return pids;
}

/**
 * Direct children that have exited and wait to be reaped (state Z). Children for which
 * `skip` returns true are left out before their /proc/<pid>/stat is read, so a caller that
 * ignores its own children pays per thread, not per child.
 */
export function zombieChildPids(skip: (pid: number) => boolean = () => false): number[] {
  return childPids().filter((pid) => !skip(pid) && readProcStat(pid)?.state === 'Z');
}
