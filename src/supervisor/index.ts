// The supervisor's public face: one UnitSupervisor per unit, and the types its callers see.
export { UnitSupervisor } from './unit-supervisor.js';
export type { TransitionEvent, SettledEvent, RestartOptions } from './unit-supervisor.js';
export type { RestartReport, InstanceReport } from './handoff.js';
export type { UnitStatus, InstanceStatus } from './status.js';
export type { State } from './states.js';
export { STATES } from './states.js';
export { isCleanExit, describeExit } from './policy.js';
export type { Child, ExitStatus, NotifyMessage, SupervisorEnv, SupervisorEvent } from './contract.js';
export { PerConnectionSupervisor, type ConnectionEnv, type AcceptedConnection } from './per-connection.js';
import type { UnitSupervisor } from './unit-supervisor.js';
import type { PerConnectionSupervisor } from './per-connection.js';

/** What the launcher drives for a unit: a long-lived service's supervisor, or a per-connection one (accept = true). */
export type ServiceSupervisor = UnitSupervisor | PerConnectionSupervisor;

/** Whether `unit` runs one process per connection (its sockets have accept = true). */
export function isPerConnection(unit: { readonly sockets: readonly { readonly accept: boolean }[] }): boolean {
  return unit.sockets.some((s) => s.accept);
}
