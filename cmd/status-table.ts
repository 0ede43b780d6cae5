// Renders a status reply as the table `launcher status` prints.
import type { StatusReply } from '../src/entrypoint/status-reply.js';

export type { StatusReply };

/** "1h02m", "3m05s", "12s", "850ms"; "-" for null. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/**
 * A fixed-width table, one row per unit, ending in a newline. A per-connection unit
 * (accept = true) is followed by one row per live connection, `unit@n`. A STORED
 * column (fds kept by FDSTORE=1) appears when some unit has an fd store.
 */
export function formatStatusTable(reply: StatusReply): string {
  const stored = reply.units.some((u) => (u.fdStoreMax ?? 0) > 0 || (u.storedFds?.length ?? 0) > 0);
  const header = ['UNIT', 'STATE', 'PID', 'SOCKETS', 'UPTIME', 'RESTARTS', ...(stored ? ['STORED'] : []), 'STATUS'];
  const rows = reply.units.flatMap((u) => [
    [
      u.name,
      u.state,
      u.perConnection ? (u.instances.length ? `${u.instances.length} conn` : '-') : u.pids.length ? u.pids.join(',') : '-',
      u.sockets.length ? u.sockets.map((s) => s.local || s.listen).join(',') : '-',
      formatDuration(u.uptimeMs),
      String(u.restarts),
      ...(stored ? [(u.fdStoreMax ?? 0) > 0 ? `${u.storedFds?.length ?? 0}/${u.fdStoreMax}` : '-'] : []),
      u.statusText ?? '',
    ],
    ...(u.perConnection
      ? u.instances.map((i) => [`${u.name}@${i.index}`, i.state, i.pid === null ? '-' : String(i.pid), '', formatDuration(i.forMs), '', ...(stored ? [''] : []), ''])
      : []),
  ]);
  if (rows.length === 0) return 'no units\n';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
