// Shared set-up for control tests: a server in a private temp folder with a
// recorded log, and a raw client that speaks bytes so tests can misbehave.
import net from 'node:net';
import path from 'node:path';
import { startControlServer, type ControlHandler, type ControlServer, type LogLevel } from '../../src/control/server.js';
import { makeTmpDir } from './tmp.js';
import { withDeadline } from './wait.js';

export interface TestServer {
  server: ControlServer;
  dir: string;
  path: string;
  logs: { level: LogLevel; message: string }[];
  cleanup: () => Promise<void>;
}

/** A default handler: status echoes its units; everything else echoes the verb. */
export const echoHandler: ControlHandler<object> = async (req) => ({ verb: req.verb, args: req.args });

/** Starts a control server on `<tmp>/run/control.sock` with `handler`; cleanup closes it and removes the folder. */
export async function startTestServer(handler: ControlHandler<object> = echoHandler): Promise<TestServer> {
  const tmp = makeTmpDir('launcher-control-');
  const file = path.join(tmp.dir, 'run', 'control.sock');
  const logs: TestServer['logs'] = [];
  const server = await startControlServer({ path: file, handler, log: (level, message) => logs.push({ level, message }) });
  return {
    server,
    dir: tmp.dir,
    path: file,
    logs,
    cleanup: async () => {
      await server.close({ graceMs: 200 });
      tmp.cleanup();
    },
  };
}

/** Everything a raw client saw: the reply lines (parsed) and whether the server closed the connection. */
export interface RawExchange {
  replies: Record<string, unknown>[];
  closedByServer: boolean;
}

/**
 * Connects, writes `data` (then EOF when `halfClose`), and collects reply lines
 * until the server closes the connection or `until(replies)` says enough (then
 * the client hangs up).
 */
export function exchange(
  file: string,
  data: string | Buffer,
  until: (replies: Record<string, unknown>[]) => boolean = () => false,
  timeoutMs = 5000,
  { halfClose = false }: { halfClose?: boolean } = {},
): Promise<RawExchange> {
  const run = new Promise<RawExchange>((resolve, reject) => {
    const socket = net.connect(file);
    const replies: Record<string, unknown>[] = [];
    let buffered = '';
    let done = false;
    const finish = (closedByServer: boolean): void => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ replies, closedByServer });
    };
    // halfClose: send EOF after the data, as `nc -N` does; the server answers, then closes.
    socket.on('connect', () => (halfClose ? socket.end(data) : socket.write(data)));
    socket.on('data', (chunk) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        replies.push(JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>);
        buffered = buffered.slice(newline + 1);
      }
      if (until(replies)) finish(false);
    });
    // A reset after the server closed is still "closed by the server".
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? finish(true) : reject(error)));
    socket.on('close', () => finish(true));
  });
  return withDeadline(run, timeoutMs, 'control exchange');
}

/** One request line. */
export function line(value: unknown): string {
  return JSON.stringify(value) + '\n';
}

/** The final reply (result or error) for `id` among `replies`. */
export function finalFor(replies: Record<string, unknown>[], id: number | null): Record<string, unknown> | undefined {
  return replies.find((r) => r.id === id && ('result' in r || 'error' in r));
}
