// One log line as the launcher keeps it (a child's output line or one of the
// launcher's own events) and the ways it is rendered: text with an optional
// colour and sd-daemon priority prefix, or one JSON object.
import { isatty } from 'node:tty';

export type Level = 'info' | 'warn' | 'error';
/** Where a line came from: a child's stdout or stderr, or the launcher itself. */
export type LogStream = 'stdout' | 'stderr' | 'launcher';

/** One line. `unit` is null for launcher events that concern no unit. */
export interface LogRecord {
  /** Increases by one per line across all units: the order lines were taken in. */
  readonly seq: number;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly unit: string | null;
  readonly instance?: number | undefined;
  readonly pid?: number | undefined;
  readonly stream: LogStream;
  readonly level: Level;
  readonly text: string;
  /** Structured extras of a launcher event (JSON output only). */
  readonly fields?: Readonly<Record<string, unknown>> | undefined;
}

/** How a text line is decorated. */
export interface TextStyle {
  /** ANSI colours (a terminal, or FORCE_COLOR). */
  readonly colour: boolean;
  /** `<6>`/`<4>`/`<3>` sd-daemon priority prefixes (stdout is the journal). */
  readonly priority: boolean;
  /** An ISO time first (files, `launcher logs`). */
  readonly time: boolean;
}

let isoMs = -1;
let isoText = '';
/** `new Date(ms).toISOString()`, computed once per millisecond (many lines share one). */
export function isoTime(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

const COLOURS = [36, 33, 35, 32, 34, 91, 92, 93, 94, 95, 96];

/** A stable colour per unit name. */
export function colourFor(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return COLOURS[h % COLOURS.length] ?? 36;
}

/** sd-daemon priority: 6 info (and stdout), 4 warning, 3 error (and stderr). */
export function priorityOf(record: LogRecord): 3 | 4 | 6 {
  if (record.stream === 'stderr' || record.level === 'error') return 3;
  return record.level === 'warn' ? 4 : 6;
}

/**
 * `web[1234] text` for a child line, `web[1234]: message` / `launcher: message` for
 * events (warn/error marked), without a newline.
 */
export function formatText(record: LogRecord, style: TextStyle): string {
  const prefix = style.priority ? `<${priorityOf(record)}>` : '';
  const time = style.time ? `${isoTime(record.time)} ` : '';
  const name = record.unit === null ? 'launcher' : record.pid !== undefined ? `${record.unit}[${record.pid}]` : record.unit;
  const who = style.colour ? paint(record.unit === null ? 1 : colourFor(record.unit), name) : name;
  if (record.stream !== 'launcher') return `${prefix}${time}${who} ${record.text}`;
  if (record.level === 'info') return `${prefix}${time}${who}: ${record.text}`;
  const mark = `${record.level}: `;
  return `${prefix}${time}${who}: ${style.colour ? paint(record.level === 'error' ? 31 : 33, mark) : mark}${record.text}`;
}

function paint(code: number, text: string): string {
  return `\x1b[${code}m${text}\x1b[0m`;
}

/**
 * The JSON object of `up --log-format json` and `logs --json`: child lines as
 * {time, source: "child", unit, instance, pid, stream, text}; launcher events as
 * {time, source: "launcher", level, message, unit?, pid?, ...fields}.
 */
export function toJson(record: LogRecord): Record<string, unknown> {
  const time = isoTime(record.time);
  if (record.stream !== 'launcher') {
    return { time, source: 'child', unit: record.unit, instance: record.instance, pid: record.pid, stream: record.stream, text: record.text };
  }
  // Key order as before this log existed (scripts and tests match on it): unit, level, message, then the rest.
  return {
    time,
    source: 'launcher',
    ...(record.unit !== null ? { unit: record.unit } : {}),
    level: record.level,
    message: record.text,
    ...(record.instance !== undefined ? { instance: record.instance } : {}),
    ...(record.pid !== undefined ? { pid: record.pid } : {}),
    ...record.fields,
  };
}

/** Whether output on `fd` gets colour: FORCE_COLOR (not "0"/"false") forces it, then NO_COLOR, then a terminal. */
export function wantsColour(fd: number, env: NodeJS.ProcessEnv): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isatty(fd) && env.TERM !== 'dumb';
}

