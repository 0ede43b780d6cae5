// A parsed unit file (or ad-hoc data) to a readonly Unit, or every error found in it.
import path from 'node:path';
import { LauncherError } from '../errors.js';
import { currentIdentity, SYSTEM_ACCOUNT_FILES } from './accounts.js';
import type { ValidateOptions, ValidationContext } from './context.js';
import { describeValue } from './describe.js';
import { listensClash } from './duplicates.js';
import { isTable, TableFields } from './fields.js';
import { fileKeyName, Issues, type KeyNamer } from './issues.js';
import { scanKeyPositions } from './positions.js';
import { TOP_LEVEL_KEYS, UNIT_NAME_RULE, isUnitName } from './schema.js';
import type { ServiceSpec, SocketSpec, Unit } from './types.js';
import { readService } from './validate-service.js';
import { readSocket } from './validate-socket.js';

export interface UnitInput {
  readonly name: string;
  /** Absolute path of the unit file (its folder anchors relative paths). */
  readonly file: string;
  /** The file's text, for line:column of key errors. */
  readonly source?: string;
  /** The parsed TOML. */
  readonly data: unknown;
}

/** The outcome of checking one unit: the Unit when `issues` is empty; the sockets that parsed either way. */
export interface CheckedUnit {
  /** The unit file as given in the input. */
  readonly file: string;
  readonly unit?: Unit;
  readonly issues: Issues;
  readonly sockets: readonly SocketSpec[];
}

/**
 * Validate one unit. Returns the frozen Unit, or throws ONE LauncherError
 * 'LAUNCHER_UNITS_INVALID' whose `context.errors` holds every error found.
 */
export function validateUnit(input: UnitInput, options: ValidateOptions = {}): Unit {
  const checked = checkUnit(input, options);
  if (checked.unit) return checked.unit;
  throw aggregateError(checked.issues.errors);
}

/** The aggregate error for a set of unit errors (the one error loaders and validateUnit throw). */
export function aggregateError(unsorted: LauncherError[], what = 'unit file'): LauncherError {
  // Keep file order, and within a file read top to bottom (errors without a line first).
  const fileOrder = new Map<unknown, number>();
  unsorted.forEach((e) => fileOrder.has(e.context.file) || fileOrder.set(e.context.file, fileOrder.size));
  const errors = unsorted
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (fileOrder.get(a.e.context.file) as number) - (fileOrder.get(b.e.context.file) as number)
      || (a.e.context.line ?? 0) - (b.e.context.line ?? 0) || a.i - b.i)
    .map(({ e }) => e);
  const files = new Set(errors.map((e) => e.context.file).filter((f) => f !== undefined));
  const where = files.size > 0 ? ` in ${files.size} ${what}${files.size === 1 ? '' : 's'}` : '';
  return new LauncherError('LAUNCHER_UNITS_INVALID', `${errors.length} error${errors.length === 1 ? '' : 's'}${where}`, { errors });
}

/** Validate without throwing. `keyName`/`unitDir` let `launcher run` reuse this with flags for keys. */
export function checkUnit(
  input: UnitInput,
  options: ValidateOptions = {},
  overrides: { keyName?: KeyNamer; unitDir?: string; file?: string | null } = {},
): CheckedUnit {
  const reportedFile = overrides.file === null ? undefined : (overrides.file ?? input.file);
  const issues = new Issues({
    unit: input.name,
    ...(reportedFile !== undefined ? { file: reportedFile } : {}),
    ...(input.source !== undefined ? { positions: scanKeyPositions(input.source) } : {}),
    keyName: overrides.keyName ?? fileKeyName,
  });
  const context: ValidationContext = {
    unitDir: overrides.unitDir ?? path.dirname(input.file),
    identity: options.identity ?? currentIdentity(),
    accountFiles: options.accountFiles ?? SYSTEM_ACCOUNT_FILES,
    defaultPath: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
  };

  if (!isUnitName(input.name)) {
    issues.add({}, `unit name ${JSON.stringify(input.name)} must match ${UNIT_NAME_RULE}`, {
      expected: 'a unit name like "web"',
      received: describeValue(input.name),
    });
  }
  if (!isTable(input.data)) {
    issues.add({}, `expected a table of keys, got ${describeValue(input.data)}`);
    return { file: input.file, issues, sockets: [] };
  }
  const top = new TableFields(input.data, (key) => ({ key }), issues);
  top.rejectUnknown(TOP_LEVEL_KEYS);
  const description = top.string('description', { nonEmpty: false });

  const serviceTable = top.raw('service');
  if (!top.has('service')) {
    issues.add({ key: 'service' }, 'a [service] table with exec = [...] is required', { expected: 'a [service] table', received: 'nothing' });
  } else if (!isTable(serviceTable)) {
    top.wrongType('service', 'a [service] table');
  }
  const service = isTable(serviceTable) ? readService(serviceTable, issues, context) : undefined;
  const sockets = readSockets(top, input.name, issues, context);
  checkDuplicatesWithin(sockets, issues);
  if (service) checkPerConnection(service, sockets, isTable(serviceTable) ? serviceTable : {}, issues);

  if (issues.count > 0 || !service) return { file: input.file, issues, sockets };
  const unit: Unit = {
    name: input.name,
    file: input.file,
    ...(description !== undefined ? { description } : {}),
    service: deepFreeze(service),
    sockets: deepFreeze(sockets),
  };
  return { file: input.file, unit: Object.freeze(unit), issues, sockets };
}

function readSockets(top: TableFields, unitName: string, issues: Issues, context: ValidationContext): SocketSpec[] {
  if (!top.has('socket')) return [];
  const list = top.raw('socket');
  if (!Array.isArray(list)) {
    top.wrongType('socket', '[[socket]] tables (an array of tables; note the double brackets)');
    return [];
  }
  const sockets: SocketSpec[] = [];
  list.forEach((table, index) => {
    if (!isTable(table)) {
      issues.add({ table: 'socket', index }, `expected a [[socket]] table, got ${describeValue(table)}`);
      return;
    }
    sockets.push(readSocket(table, index, unitName, issues, context));
  });
  return sockets;
}

/** Whether `listen` parsed (a socket with a bad address carries a placeholder and must not clash). */
export function hasAddress(socket: SocketSpec): boolean {
  return !(socket.listen.kind === 'fd' && socket.listen.name === '');
}

function checkDuplicatesWithin(sockets: readonly SocketSpec[], issues: Issues): void {
  sockets.forEach((socket, index) => {
    if (!hasAddress(socket)) return;
    const earlier = sockets.slice(0, index).findIndex((other) => hasAddress(other) && listensClash(other, socket));
    if (earlier < 0) return;
    const other = sockets[earlier] as SocketSpec;
    const how = listensClash(other, socket) === 'same' ? 'is already used by' : 'overlaps';
    issues.add({ table: 'socket', index, key: 'listen' }, `${JSON.stringify(socket.listenText)} ${how} [[socket]][${earlier}] (${JSON.stringify(other.listenText)}) of this unit`, {
      extra: { address: socket.listenText },
    });
  });
}

/**
 * A unit whose sockets accept runs one process per connection: every socket must accept, and the
 * service keys that only make sense for a long-lived process are refused. stdio = "socket" needs one.
 */
function checkPerConnection(service: ServiceSpec, sockets: readonly SocketSpec[], table: Record<string, unknown>, issues: Issues): void {
  const accepting = sockets.some((s) => s.accept);
  if (!accepting) {
    if (service.stdio === 'socket') {
      issues.add({ table: 'service', key: 'stdio' }, '"socket" needs a [[socket]] with accept = true (the connection becomes fds 0 and 1)', {
        expected: '"pipe", or a socket with accept = true',
        received: '"socket"',
      });
    }
    return;
  }
  sockets.forEach((s, index) => {
    if (!s.accept) {
      issues.add({ table: 'socket', index, key: 'listen' }, 'every socket of a unit with accept = true must accept too: each process gets only its connection', {
        expected: 'accept = true',
        received: 'accept = false',
      });
    }
  });
  const refused: [key: string, present: boolean, why: string][] = [
    ['instances', service.instances !== 1, 'each connection is its own instance'],
    ['fd_store_max', service.fdStoreMax > 0, 'a per-connection process runs once and is never restarted'],
    ['start', Object.hasOwn(table, 'start') && service.start !== 'eager', 'the launcher accepts connections itself'],
    ['watchdog', service.watchdogMs > 0, 'a per-connection process is never restarted'],
  ];
  for (const [key, present, why] of refused) {
    if (present) issues.add({ table: 'service', key }, `does not apply to a unit whose socket has accept = true: ${why}`, { received: describeValue(table[key]) });
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
