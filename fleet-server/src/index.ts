// @brana/fleet-server: enrolment, signed configuration rollouts, exactly-once telemetry, energy
// and the web console for a fleet of gateways. The wire protocol is its own package, @brana/protocol.
export { listAudit, writeAudit } from './audit/index.ts';
export { createApiToken, createUser, login, logout } from './auth/index.ts';
export {
  type ConfigValidator,
  createConfigDocument,
  firmwareConfigValidator,
  getConfigDocument,
  listConfigDocuments,
} from './configs/index.ts';
export { type ConsoleOptions, createConsole, DEFAULT_CONSOLE_BASE } from './console/index.ts';
export {
  type FleetBus,
  type FleetBusEvents,
  type Logger,
  type Principal,
  ROLES,
  type Role,
  roleAtLeast,
} from './core/index.ts';
export { DEFAULT_DB_PATH, type FleetDatabase, type FleetDb, openFleetDatabase, schema } from './db/index.ts';
export { gatewayView, listGateways, listGroups, listSites } from './devices/index.ts';
export { energyPerSite } from './energy/index.ts';
export {
  createClaimToken,
  importClaimTokensCsv,
  listClaimTokens,
  revokeClaimToken,
} from './enrolment/index.ts';
export * from './errors.ts';
export { listEvents } from './events/index.ts';
export { createFleet, type FleetOptions, type FleetServices } from './fleet.ts';
export { createFleetApp, type FleetAppOptions } from './http/index.ts';
export {
  planRollout,
  type RolloutAction,
  type RolloutInput,
  type RolloutPlanState,
} from './rollouts/index.ts';
export { type FleetServer, type FleetServerOptions, startFleetServer } from './server.ts';
export { loadServerKey } from './server-key/index.ts';
export { channelSeries, listChannels } from './telemetry/index.ts';
