// The launcher's log: its own events and each child's lines become LogRecords,
// kept in memory per unit (for `launcher logs`) and written to the sinks — its
// stdout (text prefixed `<unit>[<pid>]`, coloured on a terminal, sd-daemon
// priorities under systemd, or JSON lines) and, with --log-dir, rotated files.
// No sink can block the launcher or a service, and none fails loudly: a sink
// that breaks is reported to the others, never to itself.
import { fstatSync } from 'node:fs';
import type { SupervisorEvent } from '../supervisor/contract.js';
import type { OutputLines, OutputSink } from '../supervisor/spawn-output.js';
import { LogDir } from './log-files.js';
import { MemoryLog, recordsOf, type LinesMeta } from './log-memory.js';
import { FdSink } from './log-output.js';
import { formatText, toJson, wantsColour, type Level, type LogRecord, type TextStyle } from './log-record.js';

export type LogFormat = 'text' | 'json';
export type { Level } from './log-record.js';
export { wantsColour } from './log-record.js';

export interface Logger extends OutputSink {
  /** A launcher event (`launcher: ...` in text). */
  event(level: Level, message: string, fields?: Record<string, unknown>): void;
  /** A supervisor event, prefixed with its unit. */
  supervisor(event: SupervisorEvent): void;
  /** One line a child printed. */
  child(line: { unit: string; instance: number; pid: number; stream: 'stdout' | 'stderr'; text: string }): void;
  /** A chunk of lines a child printed (what relayOutput passes a sink): the same as child() per line, at a cost per chunk. */
  lines(batch: OutputLines): void;
  /** Every unit's recent lines, for `launcher logs`. */
  readonly memory: MemoryLog;
  /** Writes what the sinks still hold and closes the log files. */
  close(): Promise<void>;
  /** Writes what the sinks still hold, keeping them open (before an in-place upgrade's exec). */
  flush(): Promise<void>;
}

export interface LogOptions {
  readonly format: LogFormat;
  /** `up --log-dir`: files rotated at maxBytes keeping `keep` old ones. */
  readonly logDir?: { readonly dir: string; readonly maxBytes: number; readonly keep: number } | undefined;
  /** The fd written to as stdout (default 1; tests pass another). */
  readonly stdoutFd?: number;
  /** The environment read for NO_COLOR, FORCE_COLOR and JOURNAL_STREAM (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Whether `fd` is the journal's stream (systemd sets JOURNAL_STREAM=<dev>:<ino> of the stdout it gives). */
export function isJournalStream(fd: number, env: NodeJS.ProcessEnv): boolean {
  const expected = env.JOURNAL_STREAM;
  if (!expected) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return expected === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

/** A logger writing to stdout (and the log directory, when given), keeping every line in memory. */
export function createLogger(format: LogFormat | LogOptions): Logger {
  const opts: LogOptions = typeof format === 'string' ? { format } : format;
  const env = opts.env ?? process.env;
  const fd = opts.stdoutFd ?? 1;
  const json = opts.format === 'json';
  const journal = !json && isJournalStream(fd, env);
  // The journal stores priorities, not colours (even under FORCE_COLOR).
  const stdoutStyle: TextStyle = { colour: !json && !journal && wantsColour(fd, env), priority: journal, time: false };
  const fileStyle: TextStyle = { colour: false, priority: false, time: true };
  const render = (record: LogRecord, style: TextStyle): string => (json ? JSON.stringify(toJson(record)) : formatText(record, style));
  const memory = new MemoryLog();
  let seq = 0;
  const record = (r: Omit<LogRecord, 'seq' | 'time'>): LogRecord => ({ seq: ++seq, time: Date.now(), ...r });
  const skipped = (where: string) => (n: number): LogRecord =>
    record({ unit: null, stream: 'launcher', level: 'warn', text: `… ${n} line${n === 1 ? '' : 's'} skipped (${where} could not keep up)` });

  const dir = opts.logDir
    ? new LogDir(opts.logDir.dir, {
        maxBytes: opts.logDir.maxBytes,
        keep: opts.logDir.keep,
        marker: (n) => render(skipped('the log file')(n), fileStyle),
        onError: (file, error) =>
          take(record({ unit: null, stream: 'launcher', level: 'error', text: `cannot write ${file} (${error.message}); dropping its lines until it works again` }), { files: false }),
      })
    : undefined;
  const stdout = new FdSink(fd, {
    marker: (n) => render(skipped('stdout')(n), stdoutStyle),
    onBroken: (reason) =>
      take(record({ unit: null, stream: 'launcher', level: 'warn', text: `stdout is gone (${reason}); no longer writing to it (see \`launcher logs\`)` }), { stdout: false }),
  });

  function take(r: LogRecord, to: { stdout?: boolean; files?: boolean } = {}): void {
    memory.add(r);
    if (to.stdout !== false && stdout.wantsLines) stdout.write(render(r, stdoutStyle));
    if (dir && to.files !== false) {
      const line = render(r, fileStyle);
      if (r.unit !== null) dir.fileOf(r.unit).write(line);
      if (r.stream === 'launcher') dir.fileOf(null).write(line);
    }
  }

  return {
    memory,
    event(level, message, fields = {}) {
      take(record({ unit: null, stream: 'launcher', level, text: message, fields }));
    },
    supervisor(event) {
      const { unit, level, message, instance, pid, ...fields } = event;
      take(record({ unit, stream: 'launcher', level, text: message, instance, pid, fields }));
    },
    child(line) {
      take({ seq: ++seq, time: Date.now(), unit: line.unit, instance: line.instance, pid: line.pid, stream: line.stream, level: 'info', text: line.text, fields: undefined });
    },
    lines(batch) {
      // The hot path (everything a service prints): one time stamp and one rendered
      // prefix per chunk, its bytes copied once per sink; no string or object per line.
      const meta: LinesMeta = { unit: batch.unit, instance: batch.instance, pid: batch.pid, stream: batch.stream, seq: seq + 1, time: Date.now() };
      seq += batch.count;
      memory.addLines(batch, meta);
      const toStdout = stdout.wantsLines;
      if (!toStdout && !dir) return;
      if (json) {
        for (const r of recordsOf(batch, meta)) {
          if (toStdout) stdout.write(render(r, stdoutStyle));
          dir?.fileOf(batch.unit).write(render(r, fileStyle));
        }
        return;
      }
      // A child line renders as its prefix then its text: render the prefix once.
      const head: LogRecord = { seq: meta.seq, time: meta.time, unit: meta.unit, instance: meta.instance, pid: meta.pid, stream: meta.stream, level: 'info', text: '' };
      if (toStdout) stdout.writeLines(Buffer.from(formatText(head, stdoutStyle)), batch);
      dir?.fileOf(batch.unit).writeLines(Buffer.from(formatText(head, fileStyle)), batch);
    },
    async close() {
      stdout.flushNow();
      await dir?.close();
    },
    async flush() {
      stdout.flushNow();
      await dir?.flush();
    },
  };
}
