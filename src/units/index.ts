// The units module's public surface: load, validate and describe unit files.
export { loadUnitDir, loadUnitFile } from './load.js';
export { validateUnit } from './validate.js';
export type { UnitInput } from './validate.js';
export { adHocUnit } from './ad-hoc.js';
export type { AdHocOptions } from './ad-hoc.js';
export { formatUnitError } from './format.js';
export { parseDuration } from './duration.js';
export { parseListen, formatListen } from './address.js';
export { parseSignal } from './signal.js';
export { splitCommand } from './exec-split.js';
export { SERVICE_DEFAULTS, SOCKET_DEFAULTS } from './defaults.js';
export type { ValidateOptions } from './context.js';
export type { LauncherIdentity, AccountFiles } from './accounts.js';
export type * from './types.js';
