// The launcher as a systemd service of Type=notify: READY=1 once every unit has
// started (ready or failed), STATUS= lines, RELOADING=1/READY=1 around a reload,
// and STOPPING=1 at shutdown. An in-place upgrade keeps the pid, so MAINPID stays;
// the new code sends READY=1 again once it has taken over. Without NOTIFY_SOCKET
// (not under systemd) every call is a no-op. A send that fails is logged once.
import { sendDatagram } from '../sys/dgram.js';
import { describeErrno } from '../sys/errno.js';

export class ManagerNotify {
  readonly #address: string | undefined;
  #warned = false;

  constructor(env: NodeJS.ProcessEnv, private readonly warn: (message: string) => void) {
    this.#address = env.NOTIFY_SOCKET || undefined;
  }

  get enabled(): boolean {
    return this.#address !== undefined;
  }

  ready(status: string): void {
    this.#send({ READY: '1', STATUS: status, MAINPID: String(process.pid) });
  }

  reloading(status: string): void {
    this.#send({ RELOADING: '1', STATUS: status, MONOTONIC_USEC: String(process.hrtime.bigint() / 1000n) }); // CLOCK_MONOTONIC on Linux
  }

  status(status: string): void {
    this.#send({ STATUS: status });
  }

  stopping(status: string): void {
    this.#send({ STOPPING: '1', STATUS: status });
  }

  #send(fields: Record<string, string>): void {
    if (!this.#address) return;
    const text = Object.entries(fields)
      .map(([k, v]) => `${k}=${v.replace(/[\n\0]/g, ' ')}`)
      .join('\n');
    let failure: string | undefined;
    try {
      const sent = sendDatagram(this.#address, Buffer.from(text + '\n'));
      if (sent < 0) failure = describeErrno(-sent);
    } catch (error) {
      failure = (error as Error).message; // no native calls on this platform
    }
    if (failure === undefined || this.#warned) return;
    this.#warned = true;
    this.warn(`cannot notify the service manager at NOTIFY_SOCKET=${this.#address} (${failure}); going on without`);
  }
}
