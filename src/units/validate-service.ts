// The [service] table: every key checked, defaults applied, paths and exec[0] resolved.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readAccount } from './account-check.js';
import type { ValidationContext } from './context.js';
import { MAX_LOG_LINES, SERVICE_DEFAULTS } from './defaults.js';
import { describeValue } from './describe.js';
import { parseEnvFile } from './env-file.js';
import { splitCommand } from './exec-split.js';
import { folderProblem } from './folder.js';
import { isTable, TableFields } from './fields.js';
import type { Issues } from './issues.js';
import { resolveExecutable } from './path-lookup.js';
import { SERVICE_KEYS } from './schema.js';
import type { ServiceSpec } from './types.js';

/** More children than this per unit is almost certainly a typo (and a fork bomb). */
export const MAX_INSTANCES = 1024;
/** Stored fds per instance: systemd's own ceiling for FileDescriptorStoreMax. */
export const MAX_FD_STORE = 4096;

/**
 * Validate a [service] table. Always returns a ServiceSpec (with fallbacks where a key was bad)
 * so the caller can keep validating; it is only meaningful when `issues` stayed empty.
 */
export function readService(table: Record<string, unknown>, issues: Issues, context: ValidationContext): ServiceSpec {
  const fields = new TableFields(table, (key) => ({ table: 'service', key }), issues);
  fields.rejectUnknown(SERVICE_KEYS);

  const workdir = readWorkdir(fields, context);
  const envFile = readEnvFilePath(fields, context);
  const env = { ...(envFile ? readEnvFile(fields, envFile) : {}), ...readEnvTable(fields) };
  const exec = readExec(fields);
  let execPath = '';
  if (exec && workdir) {
    const pathVar = Object.hasOwn(env, 'PATH') ? (env.PATH as string) : context.defaultPath;
    execPath = issues.attempt(fields.refOf('exec'), () => resolveExecutable(exec[0] as string, { pathVar, workdir })) ?? '';
  }

  const restartDelayMs = fields.duration('restart_delay', SERVICE_DEFAULTS.restartDelayMs);
  const restartDelayMaxMs = fields.duration('restart_delay_max', SERVICE_DEFAULTS.restartDelayMaxMs);
  if (restartDelayMaxMs < restartDelayMs) {
    issues.add(fields.refOf(fields.has('restart_delay_max') ? 'restart_delay_max' : 'restart_delay'),
      `restart_delay_max (${restartDelayMaxMs} ms) must be at least restart_delay (${restartDelayMs} ms)`,
      { expected: `>= ${restartDelayMs} ms`, received: `${restartDelayMaxMs} ms` });
  }
  const user = readAccount(fields, 'user', 'user', context);
  const group = readAccount(fields, 'group', 'group', context);

  return {
    exec: exec ?? [],
    execPath,
    workdir: workdir ?? context.unitDir,
    env,
    ...(envFile ? { envFile } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(group !== undefined ? { group } : {}),
    ready: fields.choice('ready', ['started', 'notify'], SERVICE_DEFAULTS.ready),
    readyTimeoutMs: fields.duration('ready_timeout', SERVICE_DEFAULTS.readyTimeoutMs, { min: 1 }),
    readyAfterMs: fields.duration('ready_after', SERVICE_DEFAULTS.readyAfterMs),
    restart: fields.choice('restart', ['no', 'on-failure', 'always'], SERVICE_DEFAULTS.restart),
    restartDelayMs,
    restartDelayMaxMs,
    startLimitBurst: fields.integer('start_limit_burst', SERVICE_DEFAULTS.startLimitBurst, 1),
    startLimitIntervalMs: fields.duration('start_limit_interval', SERVICE_DEFAULTS.startLimitIntervalMs, { min: 1 }),
    stopSignal: fields.signal('stop_signal', SERVICE_DEFAULTS.stopSignal),
    stopTimeoutMs: fields.duration('stop_timeout', SERVICE_DEFAULTS.stopTimeoutMs, { min: 1 }),
    handoff: fields.choice('handoff', ['overlap', 'stop-first'], SERVICE_DEFAULTS.handoff),
    instances: fields.integer('instances', SERVICE_DEFAULTS.instances, 1, MAX_INSTANCES),
    start: fields.choice('start', ['eager', 'on-demand'], SERVICE_DEFAULTS.start),
    watchdogMs: fields.duration('watchdog', SERVICE_DEFAULTS.watchdogMs),
    logLines: fields.integer('log_lines', SERVICE_DEFAULTS.logLines, 0, MAX_LOG_LINES),
    fdStoreMax: fields.integer('fd_store_max', SERVICE_DEFAULTS.fdStoreMax, 0, MAX_FD_STORE),
    stdio: fields.choice('stdio', ['pipe', 'socket'], SERVICE_DEFAULTS.stdio),
  };
}

function readWorkdir(fields: TableFields, context: ValidationContext): string | undefined {
  if (!fields.has('workdir')) return context.unitDir;
  const written = fields.string('workdir');
  if (written === undefined) return undefined;
  const workdir = path.resolve(context.unitDir, written);
  const problem = folderProblem(workdir);
  if (problem) {
    fields.issues.add(fields.refOf('workdir'), `workdir ${JSON.stringify(workdir)} ${problem}`, { expected: 'an existing folder', received: JSON.stringify(written) });
    return undefined;
  }
  return workdir;
}

function readEnvFilePath(fields: TableFields, context: ValidationContext): string | undefined {
  const written = fields.string('env_file');
  return written === undefined ? undefined : path.resolve(context.unitDir, written);
}

function readEnvFile(fields: TableFields, envFile: string): Record<string, string> {
  const ref = fields.refOf('env_file');
  let text: string;
  try {
    text = readFileSync(envFile, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    fields.issues.add(ref, `env_file ${JSON.stringify(envFile)} ${reason}`, { expected: 'a readable file', received: JSON.stringify(fields.raw('env_file')) });
    return {};
  }
  const { env, problems } = parseEnvFile(text);
  for (const problem of problems) {
    fields.issues.add(ref, `${path.basename(envFile)}:${problem.line}: ${problem.message}`, { extra: { envFile, envFileLine: problem.line } });
  }
  return env;
}

function readEnvTable(fields: TableFields): Record<string, string> {
  const env: Record<string, string> = {};
  if (!fields.has('env')) return env;
  const table = fields.raw('env');
  if (!isTable(table)) {
    fields.wrongType('env', 'a table of strings like { NODE_ENV = "production" }');
    return env;
  }
  for (const [name, value] of Object.entries(table)) {
    const ref = { table: 'service' as const, key: 'env', sub: name };
    if (name === '' || name.includes('=') || name.includes('\0')) {
      fields.issues.add(ref, `${JSON.stringify(name)} is not a valid variable name (empty, or holds "=" or NUL)`, { at: 'key' });
    } else if (typeof value !== 'string') {
      const hint = typeof value === 'number' || typeof value === 'boolean' ? ` (write it in quotes: "${String(value)}")` : '';
      fields.issues.add(ref, `expected a string, got ${describeValue(value)}${hint}`, { expected: 'a string', received: describeValue(value) });
    } else if (value.includes('\0')) {
      fields.issues.add(ref, 'must not contain a NUL byte');
    } else {
      env[name] = value;
    }
  }
  return env;
}

function readExec(fields: TableFields): string[] | undefined {
  const ref = fields.refOf('exec');
  if (!fields.has('exec')) {
    fields.issues.add(ref, 'is required: the command to run, like exec = ["node", "server.mjs"]', { expected: 'a command', received: 'nothing' });
    return undefined;
  }
  const value = fields.raw('exec');
  let argv: string[] | undefined;
  if (typeof value === 'string') {
    argv = fields.issues.attempt(ref, () => splitCommand(value));
  } else if (Array.isArray(value)) {
    const bad = value.findIndex((item) => typeof item !== 'string' || item.includes('\0'));
    if (bad >= 0) {
      fields.issues.add(ref, `exec[${bad}]: expected a string, got ${describeValue(value[bad])}`, { expected: 'an array of strings', received: describeValue(value[bad]) });
      return undefined;
    }
    argv = value as string[];
  } else {
    fields.wrongType('exec', 'an array of strings or a command string');
    return undefined;
  }
  if (argv === undefined) return undefined;
  if (argv.length === 0 || argv[0] === '') {
    fields.issues.add(ref, 'must name a command, got an empty one', { expected: 'a command', received: describeValue(value) });
    return undefined;
  }
  return argv;
}
