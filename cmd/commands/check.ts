// `launcher check [--units DIR]`: validate a unit directory without running anything.
import type { CommandModule } from 'yargs';
import { finish } from '../exit.js';
import { unitsDir, unitsOption } from '../options.js';

export const check: CommandModule = {
  command: 'check',
  describe: 'Validate the unit files; print every error (exit 2) or "N units OK"',
  builder: (y) => y.option('units', unitsOption),
  handler: (argv) =>
    finish(async () => {
      const { loadUnitDir } = await import('../../src/units/index.js');
      const units = await loadUnitDir(unitsDir(argv.units));
      process.stdout.write(`${units.length} unit${units.length === 1 ? '' : 's'} OK\n`);
    }),
};
