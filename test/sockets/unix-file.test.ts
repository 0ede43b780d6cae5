// sockets/unix-file: the one stale-socket policy (clearSocketPath) that unit sockets, the
// control socket and notify sockets share, on real files and sockets.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { clearSocketPath, probeUnixSocket } from '../../src/sockets/unix-file.js';
import { close } from '../../src/sys/libc.js';
import { AF_UNIX } from '../../src/sys/sockaddr.js';
import { SOCK_CLOEXEC, SOCK_DGRAM, SOCK_STREAM, bind, listen, socket } from '../../src/sys/socket.js';
import { makeTmpDir } from '../helpers/tmp.js';
import { must } from '../helpers/sys.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).reverse().forEach((fn) => fn()));

function tmp(): string {
  const t = makeTmpDir('launcher-unix-file-');
  cleanups.push(t.cleanup);
  return t.dir;
}

/** A socket bound at `file`; listening (stream) or only bound (datagram); closed after the test unless `dead`. */
function boundAt(file: string, type: number, dead = false): void {
  const fd = must(socket(AF_UNIX, type | SOCK_CLOEXEC), 'socket');
  must(bind(fd, { family: 'unix', path: file }), 'bind');
  if (type === SOCK_STREAM) must(listen(fd, 4), 'listen');
  if (dead) close(fd);
  else cleanups.push(() => void close(fd));
}

describe('clearSocketPath', () => {
  it('is free when nothing is there, or the folder is missing', () => {
    const dir = tmp();
    expect(clearSocketPath(path.join(dir, 'none.sock'))).toEqual({ kind: 'free' });
    expect(clearSocketPath(path.join(dir, 'missing', 'x.sock'))).toEqual({ kind: 'free' });
  });

  it('removes a socket nobody listens on, whatever its type', () => {
    const dir = tmp();
    for (const type of [SOCK_STREAM, SOCK_DGRAM]) {
      const file = path.join(dir, `dead-${type}.sock`);
      boundAt(file, type, true);
      expect(probeUnixSocket(file)).toBe('stale');
      expect(clearSocketPath(file)).toEqual({ kind: 'free' });
      expect(existsSync(file)).toBe(false);
    }
  });

  it('leaves a live socket (stream or datagram) and anything that is not a socket alone', () => {
    const dir = tmp();
    for (const type of [SOCK_STREAM, SOCK_DGRAM]) {
      const file = path.join(dir, `live-${type}.sock`);
      boundAt(file, type);
      expect(clearSocketPath(file)).toEqual({ kind: 'live' });
      expect(existsSync(file)).toBe(true);
    }
    const plain = path.join(dir, 'plain');
    writeFileSync(plain, 'keep');
    mkdirSync(path.join(dir, 'folder'));
    expect(clearSocketPath(plain)).toEqual({ kind: 'not-socket' });
    expect(clearSocketPath(path.join(dir, 'folder'))).toEqual({ kind: 'not-socket' });
    expect(existsSync(plain)).toBe(true);
  });
});
