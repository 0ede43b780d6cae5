// The launcher's signal policy (it is often PID 1, where no default applies):
// TERM/INT stop everything, a second TERM/INT kills at once, HUP reloads, USR2
// upgrades the launcher in place, and USR1/QUIT/WINCH are logged and ignored
// (Node would otherwise open its inspector on USR1, and forwarding them to every
// service is rarely right).
import type { Logger } from './log.js';

export interface SignalActions {
  readonly logger: Logger;
  /** First TERM/INT: orderly stop. */
  stop(signal: NodeJS.Signals): void;
  /** True once a shutdown is under way for any reason (`down`, every service ended). */
  shuttingDown(): boolean;
  /** Second TERM/INT during shutdown: SIGKILL every service now. */
  kill(): void;
  reload(): void;
  /** USR2: replace the launcher's code in place (`launcher upgrade`). */
  upgrade(): void;
}

const IGNORED: NodeJS.Signals[] = ['SIGUSR1', 'SIGQUIT', 'SIGWINCH'];

/** Installs the handlers; returns a function that removes them. */
export function installSignals(actions: SignalActions): () => void {
  const onStop = (signal: NodeJS.Signals): void => {
    // A stop signal during any shutdown already under way (a signal, `down`, or every service having ended) means "now".
    if (actions.shuttingDown()) {
      actions.logger.event('warn', `${signal} again: killing every service now`);
      actions.kill();
      return;
    }
    actions.stop(signal);
  };
  const onUsr2 = (): void => {
    actions.logger.event('info', 'SIGUSR2 received: upgrading the launcher in place');
    actions.upgrade();
  };
  const onHup = (): void => {
    actions.logger.event('info', 'SIGHUP received: reloading the unit directory');
    actions.reload();
  };
  const onIgnored = (signal: NodeJS.Signals): void => {
    actions.logger.event('info', `${signal} received, ignoring (see docs/container.md)`);
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHup);
  process.on('SIGUSR2', onUsr2);
  IGNORED.forEach((s) => process.on(s, onIgnored));
  return () => {
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    process.off('SIGHUP', onHup);
    process.off('SIGUSR2', onUsr2);
    IGNORED.forEach((s) => process.off(s, onIgnored));
  };
}
