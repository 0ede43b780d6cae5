// The fd store for Node services: hand the launcher (or systemd) an fd to keep
// across this process's restart with store(), get it back at the next start
// with stored(). Protocol: FDSTORE=1 + FDNAME= with SCM_RIGHTS on NOTIFY_SOCKET.
import { listeners, type Listener } from './listeners.js';
import { sendDatagram } from '../sys/dgram.js';
import { send } from './notify.js';
import { checkDelivered, invalidArgument } from './errors.js';
import { fdOfTcpSocket, type TcpEnds } from './socket-fd.js';

/** What store() accepts: an fd number, an object with one (`{ fd }`), or a connected net.Socket (TCP). */
export type Storable = number | { readonly fd: number } | TcpEnds;

function fdOf(target: Storable): number {
  if (typeof target === 'number') return target;
  if ('fd' in target && typeof target.fd === 'number') return target.fd;
  const fd = fdOfTcpSocket(target as TcpEnds);
  if (fd === undefined) throw invalidArgument(TypeError, 'store(): no fd found for this socket (only connected TCP sockets, fd numbers or { fd } objects can be stored)');
  return fd;
}

/**
 * Hands `target`'s fd to the service manager under `name` (FDSTORE=1,
 * FDNAME=name); this process keeps its own copy. Resolves true once sent,
 * false when NOTIFY_SOCKET is unset (run by hand). The unit needs
 * fd_store_max > 0 (systemd: FileDescriptorStoreMax=). Throws a TypeError for
 * a bad name or a socket without an fd; rejects with an Error with `code`
 * when the datagram cannot be delivered.
 */
export async function store(name: string, target: Storable, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (!/^[\x20-\x7e]{1,255}$/.test(name) || name.includes(':')) {
    throw invalidArgument(TypeError, `store(): the fd name ${JSON.stringify(name)} must be 1-255 printable ASCII characters without ":"`);
  }
  const fd = fdOf(target);
  const address = env.NOTIFY_SOCKET;
  if (!address) return false;
  checkDelivered(sendDatagram(address, Buffer.from(`FDSTORE=1\nFDNAME=${name}\n`), { fds: [fd] }), address);
  return true;
}

/** Asks the service manager to close and forget every fd stored under `name` (FDSTOREREMOVE=1). */
export function unstore(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return send({ FDSTOREREMOVE: '1', FDNAME: name }, env);
}

/**
 * The fds this process got back from the launcher's fd store, with their names,
 * in the order they were stored: the last LAUNCHER_STORED_FDS entries of
 * listeners(). [] when there are none, and under systemd (which passes stored
 * fds too, but does not mark them: pick them from listeners() by name).
 */
export function stored(env: NodeJS.ProcessEnv = process.env): Listener[] {
  const countText = env.LAUNCHER_STORED_FDS;
  if (countText === undefined || !/^[0-9]{1,9}$/.test(countText)) return [];
  const count = Number(countText);
  const all = listeners(env);
  return count === 0 ? [] : all.slice(Math.max(0, all.length - count));
}
