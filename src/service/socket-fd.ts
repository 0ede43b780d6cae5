// The fd number behind a Node TCP socket, found through public Linux interfaces
// only: the connection's inode from /proc/net/tcp{,6} (matched by its local and
// remote ports), then the fd of this process that is that socket (/proc/self/fd).
// Node hides the fd of sockets it accepted; this is how store() can hand one over.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The ports a connected TCP socket is known by (net.Socket has both). */
export interface TcpEnds {
  readonly localPort?: number | undefined;
  readonly remotePort?: number | undefined;
}

/**
 * The fd of this process that is the TCP connection with these ports, or
 * undefined when there is none (not connected, already closed, or not TCP).
 */
export function fdOfTcpSocket(socket: TcpEnds): number | undefined {
  const { localPort, remotePort } = socket;
  if (!localPort || !remotePort) return undefined;
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1]?.split(':')[1];
      const remote = cols[2]?.split(':')[1];
      if (local && remote && parseInt(local, 16) === localPort && parseInt(remote, 16) === remotePort && cols[9]) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${entry}`);
    } catch {
      continue; // closed since the listing
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m && inodes.has(m[1]!)) return Number(entry);
  }
  return undefined;
}
