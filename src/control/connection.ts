// One accepted, authorised control connection: splits JSON lines, validates
// each request, runs them one at a time in arrival order, and writes the
// replies. A malformed line gets one error reply, then the connection closes.
import type net from 'node:net';
import { LauncherError, asLauncherError } from '../errors.js';
import type { ControlHandler, ControlLog } from './handler.js';
import { FrameSplitter } from './lines.js';
import {
  MAX_LINE_BYTES, PROTOCOL_VERSION, encodeError, encodeEvent, encodeResult, parseRequest, requestIdOf, type Request,
} from './protocol.js';
import type { PingResult } from './replies.js';

/** How long a connection the server ends may take to close before it is destroyed. */
const DESTROY_AFTER_END_MS = 1000;

/**
 * While a request runs, an empty `{ "heartbeat": true }` event goes out this often, so a
 * client can tell a long operation (a restart waits for ready_timeout and stop_timeout)
 * from a launcher that stopped answering: it gives up only after a silence.
 */
export const HEARTBEAT_MS = 1000;

export interface ConnectionOptions {
  socket: net.Socket;
  uid: number;
  pid: number;
  handler: ControlHandler<object>;
  log: ControlLog;
}

/**
 * Serves one connection until the peer leaves or `shutdown` is called. The
 * socket must have been created with `allowHalfOpen: true`: a client that
 * half-closes after its last request (`nc -N`, socat) still gets every reply.
 */
export class ControlConnection {
  /** Resolves once the socket is fully closed. */
  readonly closed: Promise<void>;
  private readonly socket: net.Socket;
  private readonly splitter = new FrameSplitter(MAX_LINE_BYTES);
  private readonly peerGone = new AbortController();
  /** Requests run strictly one after another; this is the tail of that chain. */
  private queue: Promise<void> = Promise.resolve();
  private inFlight = 0;
  /** False once no more requests are taken (protocol error, peer done, shutdown). */
  private accepting = true;

  constructor(private readonly opts: ConnectionOptions) {
    this.socket = opts.socket;
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('end', () => {
      // A last request without its "\n" (`printf '{...}' | nc -NU`) still counts.
      this.onData(Buffer.from('\n'));
      this.onPeerDoneSending();
    });
    this.socket.on('close', () => this.peerGone.abort());
    // EPIPE/ECONNRESET after the client left are expected; the socket then closes.
    this.socket.on('error', (error) => opts.log('debug', `control client pid ${opts.pid}: ${error.message}, dropping its replies`));
  }

  /** Takes no more requests, lets running ones answer for up to `graceMs`, then ends the connection. */
  async shutdown(graceMs: number): Promise<void> {
    this.accepting = false;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([this.queue, grace]);
    clearTimeout(timer);
    this.endSoon();
    await this.closed;
  }

  private onData(chunk: Buffer): void {
    // After a protocol error the rest of the stream is read and dropped, so the
    // close that follows is a clean EOF for the client rather than a reset.
    if (!this.accepting) return;
    const { lines, overflow } = this.splitter.push(chunk);
    for (const line of lines) {
      if (!this.accepting) return;
      this.acceptLine(line);
    }
    if (overflow !== undefined && this.accepting) {
      this.refuse(null, new LauncherError('LAUNCHER_CONTROL_PROTOCOL', `request line exceeds ${MAX_LINE_BYTES} bytes`, {
        limit: MAX_LINE_BYTES, received: `${overflow}+ bytes`,
      }));
    }
  }

  private acceptLine(line: string): void {
    let request: Request;
    try {
      request = parseRequest(line);
    } catch (error) {
      this.refuse(requestIdOf(line), asLauncherError(error));
      return;
    }
    this.enqueue(() => this.run(request));
  }

  /** Replies with `error` after every earlier request has answered, then closes. */
  private refuse(id: number | null, error: LauncherError): void {
    this.accepting = false;
    this.opts.log('debug', `control client pid ${this.opts.pid}: ${error.message}, closing the connection`);
    this.enqueue(async () => {
      this.write(encodeError(id, error));
      this.endSoon();
    });
  }

  private enqueue(task: () => Promise<void>): void {
    this.inFlight++;
    this.queue = this.queue.then(task).catch((error: unknown) => {
      this.opts.log('error', `control connection of pid ${this.opts.pid} failed unexpectedly: ${String(error)}`);
      this.socket.destroy();
    }).finally(() => {
      this.inFlight--;
      if (this.inFlight === 0 && this.socket.readableEnded) this.endSoon();
    });
  }

  private async run(request: Request): Promise<void> {
    let done = false;
    const progress = (event: object): void => {
      if (done) return;
      try {
        this.write(encodeEvent(request.id, event));
      } catch (error) {
        this.opts.log('warn', `progress event for "${request.verb}" is not JSON-serialisable (${String(error)}), ignoring`);
      }
    };
    const heartbeat = setInterval(() => progress({ heartbeat: true }), HEARTBEAT_MS);
    let reply: string;
    try {
      const result = request.verb === 'ping'
        ? ({ pong: true, pid: process.pid, protocol: PROTOCOL_VERSION } satisfies PingResult)
        : await this.opts.handler(request, {
          uid: this.opts.uid,
          pid: this.opts.pid,
          progress,
          pendingBytes: () => this.socket.writableLength,
          signal: this.peerGone.signal,
        });
      reply = encodeResult(request.id, result ?? {});
    } catch (error) {
      const failure = asLauncherError(error);
      if (failure.code === 'LAUNCHER_INTERNAL') this.opts.log('error', `control "${request.verb}" failed unexpectedly: ${failure.message}`);
      reply = encodeErrorSafely(request.id, failure);
    }
    done = true;
    clearInterval(heartbeat);
    this.write(reply);
  }

  /** Writes a reply line unless the client is gone (then it is dropped, silently by contract). */
  private write(line: string): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.write(line);
  }

  /** The client sent EOF: answer what is queued, then end our side too. */
  private onPeerDoneSending(): void {
    this.accepting = false;
    this.peerGone.abort();
    if (this.inFlight === 0) this.endSoon();
  }

  /** Ends our side; destroys the socket if the peer does not close within a second. */
  private endSoon(): void {
    if (this.socket.destroyed) return;
    if (!this.socket.writableEnded) this.socket.end();
    setTimeout(() => this.socket.destroy(), DESTROY_AFTER_END_MS).unref();
  }
}

/** encodeError, falling back to a context-free reply when the context is not serialisable. */
function encodeErrorSafely(id: number, error: LauncherError): string {
  try {
    return encodeError(id, error);
  } catch {
    return encodeError(id, new LauncherError(error.code, error.message));
  }
}
