// socket-launcher/service's store(): the fd of a connected net.Socket found without Node
// internals, sent with FDSTORE=1 over a real notify socket as the very same open
// connection; the no-op without NOTIFY_SOCKET; stored() without the launcher.
import net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { store, stored, unstore } from '../../src/service/index.js';
import { fdOfTcpSocket } from '../../src/service/socket-fd.js';
import type { NotifyMessage } from '../../src/supervisor/contract.js';
import { openNotifySocket } from '../../src/supervisor/notify.js';
import { sameOpenFile } from '../../src/sys/fds.js';
import { close } from '../../src/sys/libc.js';
import { stopFdWatcher } from '../../src/sys/poll.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).reverse().forEach((fn) => fn()));
afterAll(() => stopFdWatcher());

async function connectedPair(): Promise<{ client: net.Socket; server: net.Socket }> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => listener.close());
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  const server = await accepted;
  await new Promise((resolve) => (client.readyState === 'open' ? resolve(null) : client.once('connect', resolve)));
  cleanups.push(() => client.destroy(), () => server.destroy());
  return { client, server };
}

describe('store()', () => {
  it('sends a connected socket as FDSTORE=1 with FDNAME and the same open connection attached', async () => {
    const messages: NotifyMessage[] = [];
    const address = `@launcher-service-store-${process.pid}-${Date.now()}`;
    const socket = openNotifySocket(address, { onMessage: (m) => messages.push(m) });
    cleanups.push(() => socket.close());
    const { server } = await connectedPair();
    const fd = fdOfTcpSocket(server);
    expect(fd).toBeGreaterThan(2);
    expect(await store('client-1', server, { NOTIFY_SOCKET: address })).toBe(true);
    expect(unstore('client-1', { NOTIFY_SOCKET: address })).toBe(true);
    await waitFor(() => messages.length === 2, { what: 'both datagrams' });
    const [stored1, removed] = messages;
    expect(Object.fromEntries(stored1!.fields)).toEqual({ FDSTORE: '1', FDNAME: 'client-1' });
    expect(stored1!.fds).toHaveLength(1);
    expect(sameOpenFile(stored1!.fds![0]!, fd!)).toBe(true);
    close(stored1!.fds![0]!);
    expect(Object.fromEntries(removed!.fields)).toEqual({ FDSTOREREMOVE: '1', FDNAME: 'client-1' });
  });

  it('is a no-op without NOTIFY_SOCKET, and refuses a bad name', async () => {
    const { server } = await connectedPair();
    expect(await store('x', server, {})).toBe(false);
    await expect(store('a:b', server, {})).rejects.toThrow(/without ":"/);
  });

  it('stored() is empty outside the launcher', () => {
    expect(stored({})).toEqual([]);
    expect(stored({ LAUNCHER_STORED_FDS: '0', LISTEN_FDS: '1', LISTEN_PID: String(process.pid) })).toEqual([]);
  });
});
