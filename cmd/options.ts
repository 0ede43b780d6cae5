// Flags shared by several verbs, declared once.
import type { Options } from 'yargs';

export const unitsOption: Options = {
  type: 'string',
  describe: 'Unit directory (env LAUNCHER_UNITS)',
  default: undefined,
  defaultDescription: './units',
};

export const controlOption: Options = {
  type: 'string',
  describe: 'Control socket path (env LAUNCHER_CONTROL)',
};

/** --units, else LAUNCHER_UNITS, else ./units. */
export function unitsDir(flag: unknown): string {
  return typeof flag === 'string' && flag !== '' ? flag : process.env.LAUNCHER_UNITS || 'units';
}
