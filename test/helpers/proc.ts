// What a process costs, read from /proc: CPU ticks (utime + stime) and resident memory.
import { readFileSync } from 'node:fs';

/** utime + stime of `pid` in clock ticks (1/100 s on Linux), from /proc/PID/stat. */
export function cpuTicks(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": state is field 0, utime field 11, stime field 12.
  return Number(fields[11]) + Number(fields[12]);
}

/** Resident set size of `pid` in KiB, from /proc/PID/status. */
export function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return match ? Number(match[1]) : 0;
}

/** The CPU share (percent of one core) `pid` used over the next `ms` milliseconds: a measurement window, not a wait for an event. */
export async function cpuPercentOver(pid: number, ms: number): Promise<number> {
  const before = cpuTicks(pid);
  const start = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  const ticks = cpuTicks(pid) - before;
  return (ticks / 100) / ((Date.now() - start) / 1000) * 100;
}
