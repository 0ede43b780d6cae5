// The V8 settings every launcher process runs with (set by the bin, cmd/launcher.cts,
// before any of the launcher's code runs): JavaScript runs in V8's interpreter only
// (no baseline or optimizing compiler), and V8 favours memory over speed.
//
// Measured (bench/FOOTPRINT.md): with TurboFan allowed, the first hot function it
// compiles (yargs' help layout, within the first 100 ms of every command) pages about
// 3.5 MiB of node's compiler code in and keeps its zone memory; Sparkplug's baseline
// code for everything that ran at start-up stays in the code space. A launcher's own
// work never needs compiled code: it waits in the kernel, and its one hot path
// (service output into logs) is Buffer scans and writev, native either way. With these
// flags `up` with 100 units held 63.0 → 61.5 MiB (no Sparkplug) after 67–71 (no
// TurboFan, size mode), and with 1000 units 23 MiB less, for the same CPU time.
//
// Flags set after V8 started apply from then on: here that is before the launcher's
// own modules load, so nothing is ever optimized. Node given one of these settings by
// the user (in its arguments: V8 takes no such flag from NODE_OPTIONS) is left alone.

/** What the bin sets, in this order. */
export const LEAN_V8_FLAGS = ['--no-opt', '--no-maglev', '--no-sparkplug', '--optimize-for-size'] as const;

/** A node argument that chooses the compilers or the size mode: the user's choice wins. */
const USER_CHOICE = /^--(no-)?(opt|turbofan|maglev|sparkplug|jitless|optimize[-_]for[-_]size|always[-_]turbofan|always[-_]sparkplug)(=|$)/;

/** The flags to set for a node started with `execArgv`: none when the user chose any of them. */
export function leanV8Flags(execArgv: readonly string[]): readonly string[] {
  return execArgv.some((arg) => USER_CHOICE.test(arg)) ? [] : LEAN_V8_FLAGS;
}
