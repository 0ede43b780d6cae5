// The launcher's output: its own events and each child's lines, one line each,
// as text prefixed `<unit>[<pid>]` (coloured on a TTY) or as JSON lines.
import type { SupervisorEvent } from '../supervisor/contract.js';

export type LogFormat = 'text' | 'json';
export type Level = 'info' | 'warn' | 'error';

export interface Logger {
  /** A launcher event (`launcher: ...` in text). */
  event(level: Level, message: string, fields?: Record<string, unknown>): void;
  /** A supervisor event, prefixed with its unit. */
  supervisor(event: SupervisorEvent): void;
  /** One line a child printed. */
  child(line: { unit: string; instance: number; pid: number; stream: 'stdout' | 'stderr'; text: string }): void;
}

const COLOURS = [36, 33, 35, 32, 34, 91, 92, 93, 94, 95, 96];

function colourFor(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return COLOURS[h % COLOURS.length] ?? 36;
}

/**
 * A logger writing to `out` (default stdout). Text lines are `<unit>[<pid>] text`
 * for children and `launcher: text` / `<unit>: text` for events; colour only when
 * `out` is a TTY and NO_COLOR is unset.
 */
export function createLogger(format: LogFormat, out: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout): Logger {
  const colour = format === 'text' && out.isTTY === true && !process.env.NO_COLOR;
  const paint = (code: number, text: string): string => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  const write = (line: string): void => {
    out.write(line + '\n');
  };
  const json = (record: Record<string, unknown>): void => write(JSON.stringify({ time: new Date().toISOString(), ...record }));
  const levelMark = (level: Level): string => (level === 'info' ? '' : paint(level === 'error' ? 31 : 33, `${level}: `));

  return {
    event(level, message, fields = {}) {
      if (format === 'json') json({ source: 'launcher', level, message, ...fields });
      else write(`${paint(1, 'launcher')}: ${levelMark(level)}${message}`);
    },
    supervisor(event) {
      if (format === 'json') {
        json({ source: 'launcher', ...event });
        return;
      }
      const who = event.pid !== undefined ? `${event.unit}[${event.pid}]` : event.unit;
      write(`${paint(colourFor(event.unit), who)}: ${levelMark(event.level)}${event.message}`);
    },
    child(line) {
      if (format === 'json') {
        json({ source: 'child', unit: line.unit, instance: line.instance, pid: line.pid, stream: line.stream, text: line.text });
        return;
      }
      write(`${paint(colourFor(line.unit), `${line.unit}[${line.pid}]`)} ${line.text}`);
    },
  };
}
