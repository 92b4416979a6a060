// What every part of a running fleet server shares and nothing else: the logger, the bus on which
// it announces changes to live pages and caches, and the roles every request is checked against.
export { type FleetBus, type FleetBusEvents, newFleetBus } from './bus.ts';
export { type Logger, silentLogger } from './logger.ts';
export { assertRole, type Principal, ROLES, type Role, roleAtLeast } from './roles.ts';
