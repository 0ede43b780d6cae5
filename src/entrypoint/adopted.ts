// Children a launcher process did not spawn itself: after an in-place upgrade
// (execve) the services are still this process's children, but libuv has never
// heard of them. Their exit comes from the reaper (waitpid(pid, WNOHANG) on
// SIGCHLD), their output from the same pipe read ends the old code read.
import type { Child, ExitStatus } from '../supervisor/contract.js';
import type { AdoptedChildSpec } from '../supervisor/snapshot.js';
import { relayOutput, type OutputListener } from '../supervisor/spawn-output.js';
import { childOf } from '../supervisor/spawn.js';
import type { WaitResult } from '../sys/process.js';

export class AdoptedChildren {
  readonly #waiting = new Map<number, (status: ExitStatus) => void>();

  /** Whether `pid` is an adopted child not yet reaped (the reaper must reap it, libuv will not). */
  has(pid: number): boolean {
    return this.#waiting.has(pid);
  }

  /**
   * A Child for `spec`; `claim`/`release` bracket its life in the launcher's set of
   * service pids (process groups to kill at shutdown). Its `exited` settles once the
   * reaper reports it (see reaped()) and its output has been read to the end.
   */
  adopt(spec: AdoptedChildSpec, tag: { unit: string; instance: number }, onLine: OutputListener, pids: Set<number>): Child {
    const { pid } = spec;
    const output = relayOutput({ stdout: spec.stdout, stderr: spec.stderr }, { ...tag, pid }, onLine);
    for (const line of spec.lastLines) output.recent.push(line);
    let reaped: ExitStatus | null = null;
    pids.add(pid);
    const exited = new Promise<ExitStatus>((resolve) => {
      this.#waiting.set(pid, (status) => {
        reaped = status;
        pids.delete(pid);
        void output.settled().then(() => resolve(status));
      });
    });
    // Reaped by the previous process already (its exit was on its way to being acted on).
    if (spec.exit) this.reaped({ pid, status: 0, ...spec.exit });
    return childOf(pid, exited, output, () => reaped !== null, () => reaped);
  }

  /** The reaper collected `result.pid`: true when it was adopted (its `exited` settles now). */
  reaped(result: WaitResult): boolean {
    const settle = this.#waiting.get(result.pid);
    if (!settle) return false;
    this.#waiting.delete(result.pid);
    settle({ code: result.code, signal: result.signal });
    return true;
  }
}
