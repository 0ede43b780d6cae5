// Free loopback ports for tests, chosen so that nothing else on the machine takes them
// between the check and the launcher's bind. A port the OS hands out for port 0 comes from
// the ephemeral range, which every outgoing connection also draws from: a test's own client
// could take it in that gap. So ports come from below the ephemeral range, from a slice of it
// per vitest worker, starting at a random offset, checked free for TCP and UDP, and never handed
// out twice by one process.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** Below this nothing is picked: well-known and registered services live there. */
const LOWEST = 10_000;
const SLICE = 2_000;
const handedOut = new Set<number>();

/** The first port of the kernel's ephemeral range (32768 by default). */
function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low !== undefined && Number.isInteger(low) && low > LOWEST + SLICE) return low;
  } catch {
    // not Linux, or no /proc: keep the default
  }
  return 32_768;
}

/** [from, to) for this worker: slices of SLICE ports below the ephemeral range, wrapping round. */
function sliceForThisWorker(): [number, number] {
  const slices = Math.max(1, Math.floor((ephemeralLow() - LOWEST) / SLICE));
  const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 0) || 0;
  const from = LOWEST + (worker % slices) * SLICE;
  return [from, from + SLICE];
}

function tcpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function udpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ port, address: host, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

/** A port on `host` free for TCP and UDP, outside the ephemeral range, not handed out before by this process. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [from, to] = sliceForThisWorker();
  const size = to - from;
  const start = Math.floor(Math.random() * size);
  for (let k = 0; k < size; k++) {
    const port = from + ((start + k) % size);
    if (handedOut.has(port)) continue;
    if ((await tcpFree(port, host)) && (await udpFree(port, host))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port on ${host} in ${from}-${to - 1}`);
}
