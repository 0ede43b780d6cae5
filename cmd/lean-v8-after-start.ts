// `up` and `run`: V8's compilers back once the units have started (cmd/lean-v8.cts).
import { setFlagsFromString } from 'node:v8';
import { afterStartV8Flags } from './lean-v8.cjs';

/** Allows TurboFan and Sparkplug again, unless node was given its own choice of tiers. */
export function compilersBack(): void {
  for (const flag of afterStartV8Flags(process.execArgv)) setFlagsFromString(flag);
}
