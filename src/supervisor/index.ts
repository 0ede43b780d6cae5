// The supervisor's public face: one UnitSupervisor per unit, and the types its callers see.
export { UnitSupervisor } from './unit-supervisor.js';
export type { TransitionEvent, SettledEvent, RestartOptions } from './unit-supervisor.js';
export type { RestartReport, InstanceReport } from './handoff.js';
export type { UnitStatus, InstanceStatus } from './status.js';
export type { State } from './states.js';
export { STATES } from './states.js';
export { isCleanExit, describeExit } from './policy.js';
export type { Child, ExitStatus, NotifyMessage, SupervisorEnv, SupervisorEvent } from './contract.js';
