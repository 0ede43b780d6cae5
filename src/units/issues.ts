// Collects every validation error of one unit, each tied to its file, key path and position.
import { LauncherError, type ErrorCode, type ErrorContext } from '../errors.js';
import { locate, type KeyPosition, type KeyRef } from './positions.js';

/** How a KeyRef is shown: `[service].exec` for files, the flag (`-l`) for `launcher run`. */
export type KeyNamer = (ref: KeyRef) => string | undefined;

/** The key path as written in a unit file: `description`, `[service].env.FOO`, `[[socket]][0].listen`. */
export const fileKeyName: KeyNamer = (ref) => {
  const suffix = (ref.key !== undefined ? `.${ref.key}` : '') + (ref.sub !== undefined ? `.${ref.sub}` : '');
  if (ref.table === 'service') return `[service]${suffix}`;
  if (ref.table === 'socket') return `[[socket]][${ref.index ?? 0}]${suffix}`;
  return ref.key !== undefined ? suffix.slice(1) : undefined;
};

export interface IssueOptions {
  /** Point at the key (unknown keys) or at its value (bad values, the default). */
  readonly at?: 'key' | 'value';
  readonly expected?: string;
  readonly received?: string;
  readonly line?: number;
  readonly column?: number;
  readonly code?: ErrorCode;
  readonly extra?: Record<string, unknown>;
}

/** The per-unit error list. Nothing here throws; the caller decides what to do with `errors`. */
export class Issues {
  readonly errors: LauncherError[] = [];

  constructor(
    private readonly where: {
      readonly unit: string;
      readonly file?: string;
      readonly positions?: Map<string, KeyPosition>;
      readonly keyName: KeyNamer;
    },
  ) {}

  /** Record one error at `ref`. */
  add(ref: KeyRef, message: string, options: IssueOptions = {}): void {
    const context: ErrorContext = { unit: this.where.unit };
    if (this.where.file !== undefined) context.file = this.where.file;
    const position = this.where.positions ? locate(this.where.positions, ref) : undefined;
    const line = options.line ?? position?.line;
    const column = options.column ?? (options.at === 'key' ? position?.keyColumn : position?.valueColumn);
    if (line !== undefined) context.line = line;
    if (column !== undefined) context.column = column;
    const key = this.where.keyName(ref);
    if (key !== undefined) context.key = key;
    if (options.expected !== undefined) context.expected = options.expected;
    if (options.received !== undefined) context.received = options.received;
    Object.assign(context, options.extra);
    this.errors.push(new LauncherError(options.code ?? 'LAUNCHER_UNIT_INVALID', message, context));
  }

  /**
   * Run a parser; a LauncherError it throws becomes an issue at `ref`, keeping its context
   * (expected, received, and anything else it says) (anything else is a bug and propagates).
   */
  attempt<T>(ref: KeyRef, parse: () => T): T | undefined {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof LauncherError)) throw error;
      const { expected, received, ...extra } = error.context;
      this.add(ref, error.message, {
        ...(typeof expected === 'string' ? { expected } : {}),
        ...(typeof received === 'string' ? { received } : {}),
        extra,
      });
      return undefined;
    }
  }

  get count(): number {
    return this.errors.length;
  }
}
