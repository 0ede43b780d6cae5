// Every invalid fixture breaks exactly one thing: the loader must name that one error, its file, key and line.
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { LauncherError, type ErrorCode } from '../../src/errors.js';
import { loadUnitDir, loadUnitFile, type ValidateOptions } from '../../src/units/index.js';
import { makeTmpDir } from '../helpers/tmp.js';

const INVALID = fileURLToPath(new URL('../fixtures/units/invalid/', import.meta.url));
const NON_ROOT: ValidateOptions = { identity: { uid: 1000, gids: [1000] } };

interface Case {
  readonly key: string | undefined;
  readonly line?: number;
  readonly code?: ErrorCode;
  readonly message: RegExp;
  readonly options?: ValidateOptions;
}

const SYNTAX: ErrorCode = 'LAUNCHER_UNIT_SYNTAX';

/** One entry per file in fixtures/units/invalid/*.toml (the test below checks none is missing). */
const CASES: Record<string, Case> = {
  'syntax-unclosed-array': { key: undefined, line: 3, code: SYNTAX, message: /invalid TOML: unexpected end of file/ },
  'syntax-duplicate-key': { key: undefined, line: 3, code: SYNTAX, message: /invalid TOML: .*exec/ },
  'unknown-top-key': { key: 'descripton', line: 1, message: /unknown key `descripton`, did you mean `description`\?/ },
  'unknown-service-key': { key: '[service].ready_timout', line: 3, message: /did you mean `ready_timeout`\?/ },
  'unknown-socket-key': { key: '[[socket]][0].backlg', line: 6, message: /did you mean `backlog`\?/ },
  'misplaced-exec-top': { key: 'exec', line: 1, message: /belongs in `\[service\]\.exec`/ },
  'missing-service': { key: 'service', message: /\[service\] table .* is required/ },
  'service-not-table': { key: 'service', line: 1, message: /expected a \[service\] table, got "sh"/ },
  'socket-single-table': { key: 'socket', line: 4, message: /\[\[socket\]\] tables .*got a table/ },
  'socket-not-table': { key: '[[socket]][0]', message: /expected a \[\[socket\]\] table, got 1/ },
  'missing-exec': { key: '[service].exec', line: 1, message: /is required/ },
  'exec-empty-array': { key: '[service].exec', line: 2, message: /must name a command/ },
  'exec-not-string-item': { key: '[service].exec', line: 2, message: /exec\[1\]: expected a string, got 1/ },
  'exec-unbalanced-quote': { key: '[service].exec', line: 2, message: /unbalanced ' in command/ },
  'exec-not-found': { key: '[service].exec', line: 2, message: /^"nod" not found in PATH$/ },
  'exec-not-executable': { key: '[service].exec', line: 2, message: /is not executable .*without execute permission/ },
  'exec-number': { key: '[service].exec', line: 2, message: /expected an array of strings or a command string, got 42/ },
  'workdir-missing': { key: '[service].workdir', line: 3, message: /no-such-folder" does not exist/ },
  'env-file-missing': { key: '[service].env_file', line: 3, message: /no-such\.env" does not exist/ },
  'env-file-bad-line': { key: '[service].env_file', line: 3, message: /^bad-line\.env:3: expected KEY=VALUE, got "NOEQUALS"$/ },
  'env-number-value': { key: '[service].env.PORT', line: 3, message: /expected a string, got 8080 \(write it in quotes: "8080"\)/ },
  'env-not-table': { key: '[service].env', line: 3, message: /expected a table of strings/ },
  'ready-bad-enum': { key: '[service].ready', line: 3, message: /expected one of "started", "notify", got "notified"/ },
  'restart-bad-enum': { key: '[service].restart', line: 3, message: /"no", "on-failure", "always", got "sometimes"/ },
  'handoff-bad-enum': { key: '[service].handoff', line: 3, message: /"overlap", "stop-first", got "swap"/ },
  'start-bad-enum': { key: '[service].start', line: 3, message: /"eager", "on-demand", got "lazy"/ },
  'duration-bool': { key: '[service].ready_timeout', line: 3, message: /^expected a duration like "10s", got true$/ },
  'duration-bad-unit': { key: '[service].stop_timeout', line: 3, message: /got "10 sec"/ },
  'duration-negative': { key: '[service].restart_delay', line: 3, message: /got -1/ },
  'ready-timeout-zero': { key: '[service].ready_timeout', line: 3, message: /at least 1 ms/ },
  'restart-delay-max-less': { key: '[service].restart_delay_max', line: 4, message: /must be at least restart_delay/ },
  'stop-signal-unknown': { key: '[service].stop_signal', line: 3, message: /unknown signal "SIGFOO"/ },
  'accept-datagram': { key: '[[socket]][0].accept', line: 7, message: /applies to "stream" and "seqpacket" sockets only/ },
  'max-connections-without-accept': { key: '[[socket]][0].max_connections', line: 6, message: /applies only with accept = true/ },
  'max-connections-zero': { key: '[[socket]][0].max_connections', line: 7, message: /expected an integer 1\.\.65535, got 0/ },
  'accept-mixed': { key: '[[socket]][1].listen', line: 9, message: /every socket of a unit with accept = true must accept too/ },
  'accept-instances': { key: '[service].instances', line: 3, message: /does not apply to a unit whose socket has accept = true/ },
  'accept-fd-store': { key: '[service].fd_store_max', line: 3, message: /does not apply to a unit whose socket has accept = true/ },
  'stdio-without-accept': { key: '[service].stdio', line: 3, message: /"socket" needs a \[\[socket\]\] with accept = true/ },
  'stdio-bad-enum': { key: '[service].stdio', line: 3, message: /expected one of "pipe", "socket", got "inherit"/ },
  'fd-store-max-negative': { key: '[service].fd_store_max', line: 3, message: /expected an integer 0\.\.4096, got -1/ },
  'instances-zero': { key: '[service].instances', line: 3, message: /expected an integer 1\.\.1024, got 0/ },
  'instances-float': { key: '[service].instances', line: 3, message: /got 1\.5/ },
  'log-lines-negative': { key: '[service].log_lines', line: 3, message: /expected an integer 0\.\.1000000, got -5/ },
  'start-limit-burst-zero': { key: '[service].start_limit_burst', line: 3, message: /expected an integer >= 1, got 0/ },
  'user-missing': { key: '[service].user', line: 3, message: /user "no-such-user-xyz" does not exist/ },
  'group-missing': { key: '[service].group', line: 3, message: /group "no-such-group-xyz" does not exist/ },
  'user-needs-root': { key: '[service].user', line: 3, message: /needs a root launcher/, options: NON_ROOT },
  'listen-missing': { key: '[[socket]][0].listen', line: 4, message: /is required/ },
  'listen-bad-port': { key: '[[socket]][0].listen', line: 5, message: /port must be 1-65535, got 70000/ },
  'listen-port-zero': { key: '[[socket]][0].listen', line: 5, message: /port must be 1-65535, got 0/ },
  'listen-hostname': { key: '[[socket]][0].listen', line: 5, message: /"example\.com" is not an IPv4 address/ },
  'listen-ipv6-no-brackets': { key: '[[socket]][0].listen', line: 5, message: /needs brackets/ },
  'listen-not-string': { key: '[[socket]][0].listen', line: 5, message: /expected a string, got 8080/ },
  'listen-empty-abstract': { key: '[[socket]][0].listen', line: 5, message: /needs a name after "@"/ },
  'listen-unix-too-long': { key: '[[socket]][0].listen', line: 5, message: /longer than 107 bytes/ },
  'listen-empty-fd-name': { key: '[[socket]][0].listen', line: 5, message: /fd name must not be empty/ },
  'fd-name-colon': { key: '[[socket]][0].name', line: 6, message: /must not contain ":"/ },
  'seqpacket-inet': { key: '[[socket]][0].type', line: 6, message: /"seqpacket" needs a unix or abstract address/ },
  'type-bad-enum': { key: '[[socket]][0].type', line: 6, message: /"stream", "datagram", "seqpacket", got "raw"/ },
  'mode-not-octal': { key: '[[socket]][0].mode', line: 6, message: /octal mode string like "0660", got "0999"/ },
  'listen-unix-no-folder': { key: '[[socket]][0].listen', line: 5, message: /the folder of the socket file, ".*no-such-folder", does not exist \(the launcher does not create it\)/ },
  'mode-number': { key: '[[socket]][0].mode', line: 6, message: /got 660 \(write it as a string/ },
  'mode-on-inet': { key: '[[socket]][0].mode', line: 6, message: /unix socket files only/ },
  'ipv6-only-on-ipv4': { key: '[[socket]][0].ipv6_only', line: 6, message: /IPv6 addresses only/ },
  'backlog-too-big': { key: '[[socket]][0].backlog', line: 6, message: /expected an integer 1\.\.65535, got 70000/ },
  'bool-wrong-type': { key: '[[socket]][0].reuse_port', line: 6, message: /expected true or false, got "yes"/ },
  'no-delay-on-unix': { key: '[[socket]][0].no_delay', line: 6, message: /applies to TCP/ },
  'duplicate-within': { key: '[[socket]][1].listen', line: 8, message: /"127\.0\.0\.1:9109" is already used by \[\[socket\]\]\[0\]/ },
  'fd-twice': { key: '[[socket]][1].listen', line: 8, message: /"fd:inherited" is already used by \[\[socket\]\]\[0\]/ },
  'description-number': { key: 'description', line: 1, message: /expected a string, got 5/ },
  '_bad-name': { key: undefined, message: /unit name "_bad-name" must match/ },
};

async function errorsOf(load: Promise<unknown>): Promise<LauncherError[]> {
  const error = await load.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LauncherError);
  expect((error as LauncherError).code).toBe('LAUNCHER_UNITS_INVALID');
  return (error as LauncherError).context.errors ?? [];
}

describe('invalid unit files: exactly the one broken thing is reported', () => {
  test('every fixture file has a table entry, and there are at least 40', () => {
    const files = readdirSync(INVALID).filter((f) => f.endsWith('.toml')).map((f) => f.slice(0, -5));
    expect(files.sort()).toEqual(Object.keys(CASES).sort());
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  test.each(Object.entries(CASES))('%s', async (name, expected) => {
    const file = path.join(INVALID, `${name}.toml`);
    const errors = await errorsOf(loadUnitFile(file, expected.options));
    expect(errors.map((e) => `${e.context.key}: ${e.message}`)).toHaveLength(1);
    const [error] = errors as [LauncherError];
    expect(error.code).toBe(expected.code ?? 'LAUNCHER_UNIT_INVALID');
    expect(error.context.file).toBe(file);
    expect(error.context.unit).toBe(name);
    expect(error.context.key).toBe(expected.key);
    if (expected.line !== undefined) expect(error.context.line).toBe(expected.line);
    expect(error.message).toMatch(expected.message);
  });
});

describe('invalid unit folders', () => {
  const dir = (name: string) => path.join(INVALID, name);

  test('the same TCP address in two units names both files', async () => {
    const [error, ...rest] = await errorsOf(loadUnitDir(dir('dup-across-tcp')));
    expect(rest).toEqual([]);
    expect(error?.context).toMatchObject({ file: path.join(dir('dup-across-tcp'), 'b.toml'), key: '[[socket]][0].listen', line: 5, otherFile: path.join(dir('dup-across-tcp'), 'a.toml') });
    expect(error?.message).toMatch(/"localhost:9200" is already used by a\.toml \[\[socket\]\]\[0\]/);
  });

  test('unix paths clash after resolving, whatever the socket type', async () => {
    const errors = await errorsOf(loadUnitDir(dir('dup-across-unix')));
    expect(errors.map((e) => [path.basename(e.context.file ?? ''), e.context.key])).toEqual([['b.toml', '[[socket]][0].listen']]);
  });

  test('a wildcard port overlaps a specific address on it', async () => {
    const errors = await errorsOf(loadUnitDir(dir('dup-across-wildcard')));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/"\[::1\]:9201" overlaps a\.toml/);
  });

  test('a clash names the first earlier unit that holds the address, and its first such socket', async () => {
    const tmp = makeTmpDir('launcher-dup-order-');
    try {
      const unit = (...listens: string[]) => ['[service]', 'exec = ["/bin/sleep", "1"]', ...listens.flatMap((l) => ['[[socket]]', `listen = "${l}"`])].join('\n') + '\n';
      writeFileSync(path.join(tmp.dir, 'a.toml'), unit('127.0.0.1:9310', '127.0.0.1:9311'));
      writeFileSync(path.join(tmp.dir, 'b.toml'), unit('0.0.0.0:9311'));
      writeFileSync(path.join(tmp.dir, 'c.toml'), unit('127.0.0.1:9312', '127.0.0.1:9311'));
      const errors = await errorsOf(loadUnitDir(tmp.dir));
      expect(errors.map((e) => [path.basename(e.context.file ?? ''), e.context.key, e.message])).toEqual([
        ['b.toml', '[[socket]][0].listen', '"0.0.0.0:9311" overlaps a.toml [[socket]][1] ("127.0.0.1:9311")'],
        ['c.toml', '[[socket]][1].listen', '"127.0.0.1:9311" is already used by a.toml [[socket]][1] ("127.0.0.1:9311")'],
      ]);
    } finally {
      tmp.cleanup();
    }
  });

  test('every error of every file is reported, in file and line order', async () => {
    const errors = await errorsOf(loadUnitDir(dir('multi-error')));
    expect(errors.map((e) => [path.basename(e.context.file ?? ''), e.code, e.context.key, e.context.line])).toEqual([
      ['a.toml', 'LAUNCHER_UNIT_INVALID', '[service].ready', 3],
      ['a.toml', 'LAUNCHER_UNIT_INVALID', '[service].restart', 4],
      ['a.toml', 'LAUNCHER_UNIT_INVALID', '[[socket]][0].listen', 7],
      ['b.toml', 'LAUNCHER_UNIT_SYNTAX', undefined, 1],
    ]);
  });

  test('a missing folder is an error, an empty one is not', async () => {
    const errors = await errorsOf(loadUnitDir(dir('no-such-folder')));
    expect(errors[0]?.message).toBe('units folder does not exist');
    await expect(loadUnitDir(path.join(INVALID, '..', 'empty'))).resolves.toEqual([]);
  });
});
