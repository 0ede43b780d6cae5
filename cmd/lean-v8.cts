// The V8 settings of a launcher process: its start-up (CLI, unit files, the first spawns)
// runs without TurboFan and without baseline code, in V8's memory-over-speed mode; once
// its units have started, the compilers are allowed again for whatever stays hot (a
// chatty service's output through the log pipeline). Client verbs never get there.
//
// Measured (bench/FOOTPRINT.md): TurboFan's first compilation pages about 3.5 MiB of its
// own code in from the node binary, and the first function hot enough comes within
// 100 ms of every command (yargs' help layout); Sparkplug's baseline code for everything
// that ran at start-up stays in the code space (1.5 MiB with 100 units);
// --optimize-for-size held the launcher with 1000 units 13 MiB lower. An idle launcher
// never compiles again after start-up. Without TurboFan for good, though, the log
// pipeline's per-line loop ran 9× slower (CPU per 100k lines 31 → 272 ms): so it comes
// back after start-up (`afterStart`), and is used only where code stays hot.
//
// Flags set after V8 started apply from then on: the bin sets these before the launcher's
// own modules load. Node given one of these settings by the user (in its arguments: V8
// takes no such flag from NODE_OPTIONS) is left alone, then and after start-up.
// Maglev (V8's middle tier, on by default from Node 22) stays off after start-up too: a
// flag's value cannot be read back to know whether to restore it, and TurboFan alone is
// how Node 20 runs anyway.

/** What the bin sets, in this order. */
export const LEAN_V8_FLAGS = ['--no-opt', '--no-maglev', '--no-sparkplug', '--optimize-for-size'] as const;

/** What `up`/`run` set back once their units have started (Node's default for both). */
export const AFTER_START_V8_FLAGS = ['--opt', '--sparkplug'] as const;

/** A node argument that chooses the compilers or the size mode: the user's choice wins. */
const USER_CHOICE = /^--(no-)?(opt|turbofan|maglev|sparkplug|jitless|optimize[-_]for[-_]size|always[-_]turbofan|always[-_]sparkplug)(=|$)/;

/** The flags to set for a node started with `execArgv`: none when the user chose any of them. */
export function leanV8Flags(execArgv: readonly string[]): readonly string[] {
  return execArgv.some((arg) => USER_CHOICE.test(arg)) ? [] : LEAN_V8_FLAGS;
}

/** The flags to set once start-up is over, for a node started with `execArgv` (none when the user chose). */
export function afterStartV8Flags(execArgv: readonly string[]): readonly string[] {
  return leanV8Flags(execArgv).length > 0 ? AFTER_START_V8_FLAGS : [];
}
