// One [[socket]] table: address, type and options checked against each other, defaults applied.
import path from 'node:path';
import { readAccount } from './account-check.js';
import { folderProblem } from './folder.js';
import { parseListen } from './address.js';
import type { ValidationContext } from './context.js';
import { SOCKET_DEFAULTS } from './defaults.js';
import { describeValue } from './describe.js';
import { fdNameProblem } from './fd-name.js';
import { TableFields } from './fields.js';
import type { Issues } from './issues.js';
import { SOCKET_KEYS } from './schema.js';
import type { ListenAddress, SocketSpec, SocketType } from './types.js';

/** Per-connection processes at once: a bound that catches typos (and fork bombs). */
export const MAX_CONNECTIONS = 65535;

/** A placeholder address for a socket whose `listen` was bad, so checking the other keys goes on. */
const NO_ADDRESS: ListenAddress = { kind: 'fd', name: '' };

/**
 * Validate the `index`-th [[socket]] table. Always returns a SocketSpec (with fallbacks);
 * it is only meaningful when `issues` stayed empty.
 */
export function readSocket(table: Record<string, unknown>, index: number, unitName: string, issues: Issues, context: ValidationContext): SocketSpec {
  const fields = new TableFields(table, (key) => ({ table: 'socket', index, key }), issues);
  fields.rejectUnknown(SOCKET_KEYS);

  let listenText = '';
  let listen: ListenAddress | undefined;
  if (!fields.has('listen')) {
    issues.add(fields.refOf('listen'), 'is required: the address to listen on, like listen = "127.0.0.1:8080"', { expected: 'an address', received: 'nothing' });
  } else {
    const text = fields.string('listen');
    if (text !== undefined) {
      listenText = text;
      listen = issues.attempt(fields.refOf('listen'), () => parseListen(text, context.unitDir));
    }
  }

  const name = fields.string('name') ?? unitName;
  const nameProblem = fdNameProblem(name);
  if (nameProblem) {
    issues.add(fields.refOf('name'), `the fd name ${JSON.stringify(name)} ${nameProblem}`, { expected: 'an fd name', received: describeValue(name) });
  }

  const type = fields.choice<SocketType>('type', ['stream', 'datagram', 'seqpacket'], SOCKET_DEFAULTS.type);
  const spec = {
    listenText,
    listen: listen ?? NO_ADDRESS,
    name,
    type,
    backlog: fields.integer('backlog', SOCKET_DEFAULTS.backlog, 1, 65535),
    reusePort: fields.boolean('reuse_port', SOCKET_DEFAULTS.reusePort),
    ipv6Only: fields.boolean('ipv6_only', SOCKET_DEFAULTS.ipv6Only),
    noDelay: fields.boolean('no_delay', SOCKET_DEFAULTS.noDelay),
    keepAlive: fields.boolean('keep_alive', SOCKET_DEFAULTS.keepAlive),
    nonBlocking: fields.boolean('non_blocking', SOCKET_DEFAULTS.nonBlocking),
    accept: fields.boolean('accept', SOCKET_DEFAULTS.accept),
    maxConnections: fields.integer('max_connections', SOCKET_DEFAULTS.maxConnections, 1, MAX_CONNECTIONS),
    ...readFileOptions(fields, context),
  };
  if (listen) checkAgainstAddress(fields, spec, listen);
  if (spec.accept && spec.type === 'datagram') {
    issues.add(fields.refOf('accept'), 'applies to "stream" and "seqpacket" sockets only: a datagram socket has no connections to accept', {
      expected: 'type "stream" or "seqpacket"',
      received: '"datagram"',
    });
  }
  if (fields.has('max_connections') && !spec.accept) {
    issues.add(fields.refOf('max_connections'), 'applies only with accept = true (the launcher runs one process per connection)');
  }
  return spec;
}

function readFileOptions(fields: TableFields, context: ValidationContext): Pick<SocketSpec, 'mode' | 'owner' | 'group'> {
  const options: { mode?: number; owner?: string; group?: string } = {};
  if (fields.has('mode')) {
    const value = fields.raw('mode');
    if (typeof value === 'string' && /^0?[0-7]{3,4}$/.test(value)) {
      options.mode = Number.parseInt(value, 8);
    } else {
      const hint = typeof value === 'number' ? ' (write it as a string so it reads as octal)' : '';
      fields.issues.add(fields.refOf('mode'), `expected an octal mode string like "0660", got ${describeValue(value)}${hint}`, {
        expected: 'an octal mode string like "0660"',
        received: describeValue(value),
      });
    }
  }
  const owner = readAccount(fields, 'owner', 'user', context);
  const group = readAccount(fields, 'group', 'group', context);
  if (owner !== undefined) options.owner = owner;
  if (group !== undefined) options.group = group;
  return options;
}

/** Options that only make sense for some address kinds. An fd: socket's kind is unknown until run time: let it be. */
function checkAgainstAddress(fields: TableFields, spec: SocketSpec, listen: ListenAddress): void {
  if (listen.kind === 'fd') {
    for (const key of ['mode', 'owner', 'group']) {
      if (fields.has(key)) fields.issues.add(fields.refOf(key), `applies to unix socket files only, not to an inherited fd ("${spec.listenText}")`);
    }
    return;
  }
  const isUnixFamily = listen.kind === 'unix' || listen.kind === 'abstract';
  if (spec.type === 'seqpacket' && !isUnixFamily) {
    fields.issues.add(fields.refOf('type'), `"seqpacket" needs a unix or abstract address, not ${JSON.stringify(spec.listenText)}`, {
      expected: '"stream" or "datagram" for an IP address',
      received: '"seqpacket"',
    });
  }
  if (listen.kind === 'unix') {
    const folder = path.dirname(listen.path);
    const problem = folderProblem(folder);
    if (problem) {
      fields.issues.add(fields.refOf('listen'), `the folder of the socket file, ${JSON.stringify(folder)}, ${problem} (the launcher does not create it)`, {
        expected: 'an existing folder', received: JSON.stringify(spec.listenText),
      });
    }
  } else {
    for (const key of ['mode', 'owner', 'group']) {
      if (fields.has(key)) fields.issues.add(fields.refOf(key), `applies to unix socket files only ("/path" or "unix:path"), not to ${JSON.stringify(spec.listenText)}`);
    }
  }
  if (spec.ipv6Only && !(listen.kind === 'inet' && listen.family === 6)) {
    const hint = listen.kind === 'inet' && listen.family === 'any' ? ` (for IPv6 only on all addresses write "[::]:${listen.port}")` : '';
    fields.issues.add(fields.refOf('ipv6_only'), `applies to IPv6 addresses only, not to ${JSON.stringify(spec.listenText)}${hint}`);
  }
  const isTcp = listen.kind === 'inet' && spec.type === 'stream';
  for (const [key, on] of [['no_delay', spec.noDelay], ['keep_alive', spec.keepAlive]] as const) {
    if (on && !isTcp) fields.issues.add(fields.refOf(key), `applies to TCP (an IP address with type "stream") only, not to ${JSON.stringify(spec.listenText)} (${spec.type})`);
  }
  if (spec.reusePort && listen.kind !== 'inet') {
    fields.issues.add(fields.refOf('reuse_port'), `applies to IP addresses only, not to ${JSON.stringify(spec.listenText)}`);
  }
}
