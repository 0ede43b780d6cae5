// Renders a status reply as the table `launcher status` prints.
import type { StatusReply } from '../src/control/replies.js';

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

/** Longest cell of any column but the last; the last gets what is left of the width. */
const MAX_CELL = 120;
/** The last column keeps at least this much however narrow the terminal. */
const MIN_LAST = 20;

/** `text` on one line (control characters as spaces), cut to `max` characters with "…". */
export function fitCell(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\x00-\x1f\x7f]+/g, ' ');
  return flat.length <= max ? flat : flat.slice(0, Math.max(0, max - 1)) + '…';
}

/**
 * A fixed-width table, one row per unit, ending in a newline. STATUS is the unit's last
 * STATUS= text, or why it failed / backs off. A per-connection unit (accept = true) is
 * followed by one row per live connection, `unit@n`. A STORED column (fds kept by
 * FDSTORE=1) appears when some unit has an fd store. Cells are cut to fit `width`
 * columns (`launcher status --json` has them whole).
 */
export function formatStatusTable(reply: StatusReply, width = 160): string {
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
      u.reason ?? u.statusText ?? '',
    ],
    ...(u.perConnection
      ? u.instances.map((i) => [`${u.name}@${i.index}`, i.state, i.pid === null ? '-' : String(i.pid), '', formatDuration(i.forMs), '', ...(stored ? [''] : []), ''])
      : []),
  ].map((row) => row.map((cell, i, all) => (i === all.length - 1 ? cell : fitCell(cell, MAX_CELL)))));
  if (rows.length === 0) return 'no units\n';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const used = widths.slice(0, -1).reduce((sum, w) => sum + w + 2, 0);
  const last = Math.max(MIN_LAST, width - used);
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? fitCell(c, last) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line), '', launcherLine(reply)].join('\n') + '\n';
}

/** "launcher 0.2.0, pid 42, up 3h 2m, upgraded 2 times (last 5m ago)": who answers, after the table. */
export function launcherLine(reply: StatusReply, now = Date.now()): string {
  const l = reply.launcher;
  const upgraded = l.upgrades !== undefined && l.upgrades > 0 && typeof l.upgradedAt === 'number' ? `, upgraded ${l.upgrades === 1 ? 'once' : `${l.upgrades} times`} (last ${formatDuration(now - l.upgradedAt)} ago)` : '';
  return `launcher ${l.version ?? '?'}, pid ${l.pid}, up ${formatDuration(l.uptimeMs)}${upgraded}`;
}

/** The width to fit: the terminal's, else $COLUMNS, else 160 (a pipe or a file). */
export function outputWidth(out: { isTTY?: boolean; columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number {
  if (out.isTTY && out.columns) return out.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : 160;
}
