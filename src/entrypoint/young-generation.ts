// Keeps V8's young generation at its initial size in the launcher process.
//
// V8 doubles its young generation ("semi-spaces", up to 2 × 16 MiB on 64-bit) after
// each scavenge whose survivors fill it, and gives it back only on a memory-reducing GC,
// which an idle launcher rarely triggers. Starting units is such a burst: measured with
// 100 eager units, 102 MiB RSS of which ~30 MiB was the grown young generation, against
// 71.5 MiB under `--max-semi-space-size=1` (bench/FOOTPRINT.md). Every fork() (libuv
// spawns from the main thread) also copies the page tables of all of it.
//
// `--max-semi-space-size` is read only when the heap is set up, so it cannot be set from
// here; `--semi-space-growth-factor` is read each time V8 grows the young generation
// (V8 11.3, Node 20: measured by test/entrypoint/young-generation.test.ts), so a factor
// of 1 keeps it at its initial 1 MiB per semi-space. The cost is more scavenges (each
// small and short) in a burst. A user who sizes the young generation themselves
// (either flag in node's arguments or NODE_OPTIONS) is left alone.
import { setFlagsFromString } from 'node:v8';

const USER_FLAGS = /--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor|semi[-_]space)/;

/** Whether node was started with a young-generation size of the user's own. */
export function userSizedYoungGeneration(execArgv: readonly string[], nodeOptions: string): boolean {
  return execArgv.some((arg) => USER_FLAGS.test(arg.replaceAll('_', '-'))) || USER_FLAGS.test(nodeOptions.replaceAll('_', '-'));
}

/** Stops the young generation from growing (see above); false when the user sized it. */
export function capYoungGeneration(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  if (userSizedYoungGeneration(execArgv, nodeOptions)) return false;
  setFlagsFromString('--semi-space-growth-factor=1');
  return true;
}
