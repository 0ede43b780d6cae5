// A line-oriented TCP client for e2e tests: one connection kept open across
// questions, each answered by one line, with deadlines.
import net from 'node:net';
import { withDeadline } from './wait.js';

export interface LineClient {
  /** Sends `text` + newline and resolves with the next line received. */
  ask(text: string, timeoutMs?: number): Promise<string>;
  /** The next line received (already buffered or future). */
  nextLine(timeoutMs?: number): Promise<string>;
  /** True once the peer closed or reset the connection. */
  readonly closed: boolean;
  /** How many times this client connected: always 1 (it never reconnects). */
  readonly connects: number;
  close(): void;
}

/** Connects once to 127.0.0.1:port; rejects if the connection is refused or not made within `timeoutMs`. */
export async function connectLines(port: number, timeoutMs = 10_000): Promise<LineClient> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  await withDeadline(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    }),
    timeoutMs,
    `connect to port ${port}`,
  );
  let buffer = '';
  let closed = false;
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  const nextLine = (ms = 10_000): Promise<string> => {
    const ready = lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return withDeadline(new Promise<string>((resolve) => waiters.push(resolve)), ms, `a line on port ${port}`);
  };
  return {
    ask: (text, ms) => {
      socket.write(text + '\n');
      return nextLine(ms);
    },
    nextLine,
    get closed() {
      return closed;
    },
    connects: 1,
    close: () => socket.destroy(),
  };
}
