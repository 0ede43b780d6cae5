// The watchdog interval the supervisor expects pings within, read the way
// libsystemd's sd_watchdog_enabled() reads it.

/**
 * The watchdog interval in milliseconds from WATCHDOG_USEC, or null when no
 * watchdog is asked of this process: WATCHDOG_USEC unset, not a positive
 * integer, or WATCHDOG_PID set to another process. Ping (notify.watchdog())
 * at about half this interval.
 */
export function watchdogInterval(env: NodeJS.ProcessEnv = process.env): number | null {
  const usecText = env.WATCHDOG_USEC;
  if (usecText === undefined || !/^[0-9]+$/.test(usecText)) return null;
  const usec = Number(usecText);
  if (usec <= 0) return null;
  const pidText = env.WATCHDOG_PID;
  if (pidText !== undefined && pidText !== '' && Number(pidText) !== process.pid) return null;
  return usec / 1000;
}
