// startFleetServer: opens the database (migrations applied), loads or makes the server's Ed25519
// key, builds the Hono app and the gateway WebSocket hub, and listens on a real HTTP server.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  GATEWAY_WS_PATH,
  generateEd25519KeyPair,
  privateKeyFromPem,
  privateKeyToPem,
  publicKeyOf,
} from '@brana/protocol';
import { serve } from '@hono/node-server';
import { eq } from 'drizzle-orm';
import type { Hono } from 'hono';
import { createUser, type Role } from './auth/users.ts';
import { firmwareConfigValidator } from './configs/firmware.ts';
import type { ConfigValidator } from './configs/index.ts';
import { type FleetBusEvents, type FleetContext, type Logger, silentLogger } from './context.ts';
import { startCheckpointer } from './db/checkpointer.ts';
import { DEFAULT_DB_PATH, type FleetDatabase, type FleetDb, openFleetDatabase } from './db/index.ts';
import { serverKeys } from './db/schema.ts';
import { type ClaimTokenInput, type CreatedClaimToken, createClaimToken } from './devices/claims.ts';
import { StartupError } from './errors.ts';
import { GatewayHub } from './gateway-link/hub.ts';
import type { FleetEnv } from './http/api.ts';
import { createFleetApp, type FleetAppOptions } from './http/app.ts';
import { RolloutService } from './rollouts/service.ts';
import { TelemetryStore, TelemetryWriter, toReadings } from './telemetry/index.ts';

export interface FleetServerOptions {
  /** SQLite file; default ./.brana/fleet.db (or BRANA_FLEET_DB). */
  dbPath?: string;
  /** 0 picks a free port. Default 8080. */
  port?: number;
  host?: string;
  log?: Logger;
  /** Gateway config validation; default @brana/firmware's validateGatewayConfig. */
  validateConfig?: ConfigValidator;
  app?: FleetAppOptions;
  heartbeatS?: number;
  /**
   * Lets another module (the web console) add routes before the server listens, and WebSocket
   * endpoints: `upgrades.set('/console/live', (req, socket, head) => …)`.
   */
  mount?: (app: Hono<FleetEnv>, fleet: FleetContext, upgrades: Map<string, UpgradeHandler>) => void;
}

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface FleetServer {
  url: string;
  port: number;
  fleet: FleetContext;
  app: Hono<FleetEnv>;
  server: Server;
  createClaimToken(input?: ClaimTokenInput): CreatedClaimToken;
  /** Creates a user with a generated one-time password (returned once). */
  createUser(username: string, role: Role, password?: string): Promise<{ id: string; password: string }>;
  createAdmin(username: string, password?: string): Promise<{ id: string; password: string }>;
  close(): Promise<void>;
}

/** Loads the server signing key, making one on first start. */
export function loadServerKey(db: FleetDb, now = Date.now()) {
  const row = db.select().from(serverKeys).where(eq(serverKeys.id, 'default')).get();
  if (row) {
    const privateKey = privateKeyFromPem(row.privateKeyPem);
    return { privateKey, publicKey: publicKeyOf(privateKey) };
  }
  const kp = generateEd25519KeyPair();
  db.insert(serverKeys)
    .values({
      id: 'default',
      privateKeyPem: privateKeyToPem(kp.privateKey),
      publicKey: kp.publicKey,
      createdAt: now,
    })
    .run();
  return kp;
}

/** Everything except the listening socket: used by startFleetServer and by tests of the app alone. */
export function createFleetContext(
  database: FleetDatabase,
  options: {
    validateConfig: ConfigValidator;
    log?: Logger;
    heartbeatS?: number;
    now?: () => number;
    /** Store telemetry on a writer thread (default true for a database file; see telemetry/writer.ts). */
    writerThread?: boolean;
  },
): FleetContext {
  const now = options.now ?? Date.now;
  const hub = new GatewayHub({ heartbeatS: options.heartbeatS ?? 20 });
  const log = options.log ?? silentLogger;
  const bus = new EventEmitter<FleetBusEvents>();
  bus.setMaxListeners(1000);
  const rollouts = new RolloutService(database.db, {
    sqlite: database.sqlite,
    push: (gatewayId, doc) => hub.push(gatewayId, doc),
    now,
    onChange: (rolloutId) => bus.emit('rollout', { rolloutId }),
    onError: (err) => log.error('rollout planning failed', { error: String(err) }),
  });
  const telemetry = new TelemetryStore(database.sqlite);
  const writer = new TelemetryWriter({
    dbPath: database.path,
    thread: (options.writerThread ?? true) && database.path !== ':memory:',
    fallback: telemetry,
    loopConnection: database.sqlite,
    gate: database.writeGate,
    onError: (message) => log.error(message),
  });
  const fleet: FleetContext = {
    database,
    db: database.db,
    serverKey: loadServerKey(database.db, now()),
    telemetry,
    ingestTelemetry: async (gateway, batch, markSeen) => {
      // Records for live pages, made before the columns move to the writer thread.
      const live =
        bus.listenerCount('telemetry') > 0
          ? { gatewayId: gateway.id, readings: toReadings(batch.columns), events: batch.events }
          : null;
      const ack = await writer.ingest(
        gateway.num,
        { readings: batch.columns, events: batch.events },
        now(),
        markSeen ? gateway.id : undefined,
      );
      if (live) bus.emit('telemetry', live);
      return ack;
    },
    writer,
    rollouts,
    hub,
    validateConfig: options.validateConfig,
    bus,
    now,
    log,
  };
  hub.bind(fleet);
  return fleet;
}

export async function startFleetServer(options: FleetServerOptions): Promise<FleetServer> {
  const dbPath = options.dbPath ?? process.env.BRANA_FLEET_DB ?? DEFAULT_DB_PATH;
  const database = openFleetDatabase(dbPath);
  const heartbeatS = options.heartbeatS ?? 20;
  const fleet = createFleetContext(database, {
    validateConfig: options.validateConfig ?? firmwareConfigValidator,
    heartbeatS,
    ...(options.log ? { log: options.log } : {}),
  });
  const { app } = createFleetApp(fleet, options.app);
  fleet.writer.start();
  const checkpointer = startCheckpointer(database, {
    onError: (error) => fleet.log.error('WAL checkpoint failed', { error }),
    // Without the checkpoint thread the writer's own commits must checkpoint again.
    onStopped: () => fleet.writer.setAutoCheckpoint(true),
  });
  if (checkpointer.running) fleet.writer.setAutoCheckpoint(false);
  const upgrades = new Map<string, UpgradeHandler>();
  upgrades.set(GATEWAY_WS_PATH, (req, socket, head) => fleet.hub.handleUpgrade(req, socket, head));
  options.mount?.(app, fleet, upgrades);
  const host = options.host ?? '127.0.0.1';
  let server: Server;
  try {
    server = await new Promise<Server>((resolveServer, reject) => {
      const s = serve({ fetch: app.fetch, port: options.port ?? 8080, hostname: host }) as Server;
      s.once('listening', () => resolveServer(s));
      s.once('error', reject);
    });
  } catch (cause) {
    await fleet.writer.close();
    await checkpointer.stop();
    database.close();
    const code = (cause as NodeJS.ErrnoException).code;
    throw new StartupError(
      code === 'EADDRINUSE'
        ? `port ${options.port} on ${host} is in use; pick another with --port`
        : `cannot listen on ${host}:${options.port}: ${(cause as Error).message}`,
      { cause },
    );
  }
  server.on('upgrade', (req, socket, head) => {
    const handler = upgrades.get((req.url ?? '').split('?')[0] ?? '');
    if (handler) handler(req, socket, head);
    else socket.destroy();
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  fleet.log.info('fleet server listening', {
    url,
    db: database.path,
    serverPublicKey: fleet.serverKey.publicKey,
  });
  let closed = false;
  return {
    url,
    port,
    fleet,
    app,
    server,
    createClaimToken: (input = {}) => createClaimToken(fleet.db, input, 'system', fleet.now()),
    createUser: async (username, role, password) => {
      const u = await createUser(
        fleet.db,
        { username, role, ...(password ? { password } : {}) },
        'system',
        fleet.now(),
      );
      return { id: u.id, password: u.password };
    },
    createAdmin: async (username, password) => {
      const u = await createUser(
        fleet.db,
        { username, role: 'admin', ...(password ? { password } : {}) },
        'system',
        fleet.now(),
      );
      return { id: u.id, password: u.password };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await fleet.hub.close();
      fleet.rollouts.close();
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
      await fleet.writer.close();
      await checkpointer.stop();
      database.close();
    },
  };
}
