// fleet-server: enrolment, signed configuration rollouts and exactly-once telemetry for a fleet of
// gateways. The device wire protocol is its own package, @brana/protocol.

export { listAudit, writeAudit } from './audit/index.ts';
export {
  createApiToken,
  createUser,
  login,
  logout,
  type Principal,
  ROLES,
  type Role,
  roleAtLeast,
} from './auth/users.ts';
export { firmwareConfigValidator } from './configs/firmware.ts';
export {
  type ConfigValidator,
  createConfigDocument,
  getConfigDocument,
  listConfigDocuments,
} from './configs/index.ts';
// The web console (src/console, built by its own engineer): mount with app.route('/', createConsole({ fleet })).
export { type ConsoleDeps, createConsole, DEFAULT_CONSOLE_BASE } from './console/index.ts';
export type { FleetBusEvents, FleetContext, Logger } from './context.ts';
export { DEFAULT_DB_PATH, type FleetDatabase, type FleetDb, openFleetDatabase, schema } from './db/index.ts';
export {
  createClaimToken,
  importClaimTokensCsv,
  listClaimTokens,
  revokeClaimToken,
} from './devices/claims.ts';
export { gatewayView, listGateways, listGroups, listSites } from './devices/devices.ts';
export * from './errors.ts';
export { assertRole, authenticate, type FleetEnv, requireRole, SESSION_COOKIE } from './http/api.ts';
export { createFleetApp, type FleetApp, type FleetAppOptions } from './http/app.ts';
export {
  plan as planRollout,
  type RolloutAction,
  type RolloutInput,
  type RolloutPlanState,
} from './rollouts/plan.ts';
export {
  createFleetContext,
  type FleetServer,
  type FleetServerOptions,
  loadServerKey,
  startFleetServer,
  type UpgradeHandler,
} from './server.ts';
export { type ApplyPolicy, SimulatedGateway } from './sim/simulated-gateway.ts';
export {
  channelSeries,
  type EnergyInterval,
  energyPerSite,
  listChannels,
  listEvents,
} from './telemetry/index.ts';
