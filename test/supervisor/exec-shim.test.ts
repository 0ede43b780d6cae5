// supervisor/exec-shim: which command starts a service, and the Node shim's source,
// generated from the native module (src/sys/libc.ts) rather than written with numbers.
import { describe, expect, it } from 'vitest';
import { EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND, execCommand } from '../../src/supervisor/exec-shim.js';
import { LISTEN_FDS_START } from '../../src/sockets/listen-fds.js';
import { F_SETFD, LIBC_NAME, SIGNATURES } from '../../src/sys/libc.js';
import type { ServiceSpec } from '../../src/units/types.js';

const service = { exec: ['app', '--port', '1'], execPath: '/usr/bin/app' } as unknown as ServiceSpec;

describe('execCommand', () => {
  it('runs the program itself when no variable needs the pid', () => {
    expect(execCommand(service, [], 'sh')).toEqual({ file: '/usr/bin/app', args: ['--port', '1'], argv0: 'app' });
  });

  it('sets each variable to the pid through /bin/sh, which keeps its pid across exec', () => {
    const command = execCommand(service, ['LISTEN_PID', 'WATCHDOG_PID'], 'sh');
    expect(command.file).toBe('/bin/sh');
    expect(command.args).toEqual(['-c', 'LISTEN_PID=$$; export LISTEN_PID; WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$0" "$@"', '/usr/bin/app', '--port', '1']);
  });

  it('uses the Node shim for ids (supplementary groups), keeping argv[0]', () => {
    const command = execCommand(service, ['LISTEN_PID'], 'sh', '1000:1000:1000,27');
    expect(command.file).toBe(process.execPath);
    const [flag, source, dashes, koffi, names, ids, file, argv0, ...args] = command.args;
    expect([flag, dashes, names, ids, file, argv0, args]).toEqual(['-e', '--', 'LISTEN_PID', '1000:1000:1000,27', '/usr/bin/app', 'app', ['--port', '1']]);
    expect(koffi).toMatch(/koffi/);
    expect(typeof source).toBe('string');
  });

  it('writes the shim from libc.ts: its library, declarations, fcntl command and exit statuses', () => {
    const source = execCommand(service, ['LISTEN_PID'], 'node').args[1]!;
    expect(source).toContain(`koffi.load(${JSON.stringify(LIBC_NAME)})`);
    for (const name of ['execve', 'signal', 'sigprocmask', 'fcntl', 'setgroups', 'setgid', 'setuid'] as const) {
      expect(source).toContain(JSON.stringify(SIGNATURES[name]));
    }
    expect(source).toContain(`const passed = ${LISTEN_FDS_START} +`);
    expect(source).toContain(`fcntl(fd, ${F_SETFD}, 0)`);
    expect(source).toContain(`process.exit(errno === 2 ? ${EXIT_NOT_FOUND} : ${EXIT_CANNOT_EXECUTE})`);
    expect(source).not.toMatch(/libc\.func\('/); // every declaration comes from SIGNATURES
    expect(() => new Function('require', 'process', source)).not.toThrow(); // it parses
  });
});
