// The fleet server's parts, made in dependency order with what each needs (no late binding): the
// bus, the server key, live sessions, telemetry, rollouts (which push through the sessions) and
// the gateway hub (which reports to rollouts). The HTTP and console mount tables take them apart.
import { type ConfigValidator, getConfigDocument } from './configs/index.ts';
import { type FleetBus, type Logger, newFleetBus, silentLogger } from './core/index.ts';
import type { FleetDatabase } from './db/index.ts';
import { GatewayHub, GatewaySessions } from './gateway-link/index.ts';
import { RolloutService } from './rollouts/index.ts';
import { loadServerKey, type ServerKey } from './server-key/index.ts';
import { TelemetryPipeline } from './telemetry/index.ts';

export interface FleetOptions {
  validateConfig: ConfigValidator;
  log?: Logger | undefined;
  heartbeatS?: number | undefined;
  now?: (() => number) | undefined;
  /** Store telemetry on a writer thread (default true for a database file; see telemetry/writer.ts). */
  writerThread?: boolean | undefined;
}

/** A running fleet server's parts. */
export interface FleetServices {
  database: FleetDatabase;
  serverKey: ServerKey;
  validateConfig: ConfigValidator;
  bus: FleetBus;
  log: Logger;
  now(): number;
  sessions: GatewaySessions;
  telemetry: TelemetryPipeline;
  rollouts: RolloutService;
  hub: GatewayHub;
}

/** Everything but the listening socket: for startFleetServer and for tests of the app alone. */
export function createFleet(database: FleetDatabase, options: FleetOptions): FleetServices {
  const now = options.now ?? Date.now;
  const log = options.log ?? silentLogger;
  const bus = newFleetBus();
  const serverKey = loadServerKey(database.db, now());
  const sessions = new GatewaySessions();
  const telemetry = new TelemetryPipeline({ database, bus, log, now, writerThread: options.writerThread });
  const rollouts = new RolloutService(database.db, {
    sqlite: database.sqlite,
    push: (gatewayId, doc) => sessions.push(gatewayId, doc),
    now,
    onChange: (rolloutId) => bus.emit('rollout', { rolloutId }),
    onError: (err) => log.error('rollout planning failed', { error: String(err) }),
  });
  const hub = new GatewayHub({
    sqlite: database.sqlite,
    sessions,
    serverKey: serverKey.privateKey,
    configDocument: (version) => getConfigDocument(database.db, version),
    reportApply: (gatewayId, version, state, errors) => rollouts.report(gatewayId, version, state, errors),
    telemetry,
    bus,
    log,
    now,
    heartbeatS: options.heartbeatS,
  });
  return {
    database,
    serverKey,
    validateConfig: options.validateConfig,
    bus,
    log,
    now,
    sessions,
    telemetry,
    rollouts,
    hub,
  };
}
