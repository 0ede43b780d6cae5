// The launcher's version, read once from its package.json (two levels up from this
// module in dist/src/ and from the bundle's chunks in dist/cmd/).
import { readFileSync } from 'node:fs';

let version: string | undefined;

export function launcherVersion(): string {
  if (version === undefined) {
    try {
      version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
    } catch {
      version = 'unknown';
    }
  }
  return version;
}
