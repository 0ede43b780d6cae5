// sockets/listen-fds: the activation protocol written for a child and read back,
// with sd_listen_fds_with_names() semantics (pure: no fd, no environment touched).
import { describe, expect, it } from 'vitest';
import { LISTEN_FDS_START, LISTEN_VARIABLES, listenEnv, listenPidVariables, parseListenFds } from '../../src/sockets/listen-fds.js';

describe('listenEnv / listenPidVariables (the writer)', () => {
  it('counts and names the fds, nothing for none', () => {
    expect(listenEnv(['http', 'admin'])).toEqual({ LISTEN_FDS: '2', LISTEN_FDNAMES: 'http:admin' });
    expect(listenEnv([])).toEqual({});
    expect(listenPidVariables(2)).toEqual(['LISTEN_PID']);
    expect(listenPidVariables(0)).toEqual([]);
  });

  it('reads back what it wrote, from LISTEN_FDS_START on, once LISTEN_PID is the reader', () => {
    const env = { ...listenEnv(['web', 'web', 'conn']), LISTEN_PID: '77' };
    expect(parseListenFds(env, 77)).toEqual({
      kind: 'passed',
      fds: [
        { fd: LISTEN_FDS_START, name: 'web' },
        { fd: LISTEN_FDS_START + 1, name: 'web' },
        { fd: LISTEN_FDS_START + 2, name: 'conn' },
      ],
    });
    expect(LISTEN_VARIABLES.every((name) => name in env)).toBe(true);
  });
});

describe('parseListenFds (the reader)', () => {
  const parse = (env: Record<string, string>) => parseListenFds(env, 4242);

  it('is nothing for another process, or without LISTEN_PID or LISTEN_FDS', () => {
    expect(parse({})).toEqual({ kind: 'none' });
    expect(parse({ LISTEN_PID: '4243', LISTEN_FDS: '1' })).toEqual({ kind: 'none' });
    expect(parse({ LISTEN_PID: '4242' })).toEqual({ kind: 'none' });
  });

  it('is nothing, with a word why, for LISTEN_FDS without LISTEN_PID', () => {
    expect(parse({ LISTEN_FDS: '2' })).toEqual({ kind: 'none', stray: 'LISTEN_FDS=2 without LISTEN_PID' });
  });

  it('names every fd "unknown" when LISTEN_FDNAMES is unset or empty', () => {
    const unnamed = { kind: 'passed', fds: [{ fd: 3, name: 'unknown' }, { fd: 4, name: 'unknown' }] };
    expect(parse({ LISTEN_PID: '4242', LISTEN_FDS: '2' })).toEqual(unnamed);
    expect(parse({ LISTEN_PID: '4242', LISTEN_FDS: '2', LISTEN_FDNAMES: '' })).toEqual(unnamed);
  });

  it.each([
    [{ LISTEN_PID: 'abc', LISTEN_FDS: '1' }, 'invalid LISTEN_PID="abc"'],
    [{ LISTEN_PID: '0', LISTEN_FDS: '1' }, 'invalid LISTEN_PID="0"'],
    [{ LISTEN_PID: ' 4242', LISTEN_FDS: '1' }, 'invalid LISTEN_PID=" 4242"'],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '0' }, 'invalid LISTEN_FDS="0"'],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '1234567890' }, 'invalid LISTEN_FDS="1234567890"'],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '2', LISTEN_FDNAMES: 'a:b:c' }, 'LISTEN_FDNAMES has 3 names for LISTEN_FDS=2'],
  ])('finds %j malformed', (env, problem) => {
    expect(parse(env)).toEqual({ kind: 'malformed', problem });
  });
});
