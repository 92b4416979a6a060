// startFleetServer: opens the database (migrations applied), makes the server's parts, mounts the
// API (and the console when asked), and listens on a real HTTP server with the gateways' WebSocket.
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { GATEWAY_WS_PATH } from '@brana/protocol';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { ApiEnv } from './api-kit/index.ts';
import { createUser } from './auth/index.ts';
import { type ConfigValidator, firmwareConfigValidator } from './configs/index.ts';
import { type ConsoleOptions, createConsole } from './console/index.ts';
import type { Logger, Role } from './core/index.ts';
import { DEFAULT_DB_PATH, openFleetDatabase, startCheckpointer } from './db/index.ts';
import { type ClaimTokenInput, type CreatedClaimToken, createClaimToken } from './enrolment/index.ts';
import { StartupError } from './errors.ts';
import { createFleet, type FleetServices } from './fleet.ts';
import { createFleetApp, type FleetAppOptions } from './http/index.ts';

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
  /** Serve the web console too (under /console by default). */
  console?: boolean | ConsoleOptions;
}

export interface FleetServer {
  url: string;
  port: number;
  fleet: FleetServices;
  app: Hono<ApiEnv>;
  server: Server;
  createClaimToken(input?: ClaimTokenInput): CreatedClaimToken;
  /** Creates a user with a generated one-time password (returned once). */
  createUser(username: string, role: Role, password?: string): Promise<{ id: string; password: string }>;
  createAdmin(username: string, password?: string): Promise<{ id: string; password: string }>;
  close(): Promise<void>;
}

type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

function listen(app: Hono<ApiEnv>, port: number, host: string): Promise<Server> {
  return new Promise<Server>((resolveServer, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }) as Server;
    s.once('listening', () => resolveServer(s));
    s.once('error', reject);
  });
}

export async function startFleetServer(options: FleetServerOptions): Promise<FleetServer> {
  const database = openFleetDatabase(options.dbPath ?? process.env.BRANA_FLEET_DB ?? DEFAULT_DB_PATH);
  const fleet = createFleet(database, {
    validateConfig: options.validateConfig ?? firmwareConfigValidator,
    heartbeatS: options.heartbeatS ?? 20,
    log: options.log,
  });
  const app = createFleetApp(fleet, options.app);
  if (options.console) app.route('/', createConsole(fleet, options.console === true ? {} : options.console));
  fleet.telemetry.writer.start();
  const checkpointer = startCheckpointer(database, {
    onError: (error) => fleet.log.error('WAL checkpoint failed', { error }),
    // Without the checkpoint thread the writer's own commits must checkpoint again.
    onStopped: () => fleet.telemetry.writer.setAutoCheckpoint(true),
  });
  if (checkpointer.running) fleet.telemetry.writer.setAutoCheckpoint(false);
  const upgrades = new Map<string, UpgradeHandler>([
    [GATEWAY_WS_PATH, (req, socket, head) => fleet.hub.handleUpgrade(req, socket, head)],
  ]);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  let server: Server;
  try {
    server = await listen(app, port, host);
  } catch (cause) {
    await fleet.telemetry.close();
    await checkpointer.stop();
    database.close();
    const code = (cause as NodeJS.ErrnoException).code;
    throw new StartupError(
      code === 'EADDRINUSE'
        ? `port ${port} on ${host} is in use; pick another with --port`
        : `cannot listen on ${host}:${port}: ${(cause as Error).message}`,
      { cause },
    );
  }
  server.on('upgrade', (req, socket, head) => {
    const handler = upgrades.get((req.url ?? '').split('?')[0] ?? '');
    if (handler) handler(req, socket, head);
    else socket.destroy();
  });
  const bound = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  fleet.log.info('fleet server listening', {
    url,
    db: database.path,
    serverPublicKey: fleet.serverKey.publicKey,
  });
  const addUser = async (username: string, role: Role, password?: string) => {
    const u = await createUser(
      database.db,
      { username, role, ...(password ? { password } : {}) },
      'system',
      fleet.now(),
    );
    return { id: u.id, password: u.password };
  };
  let closed = false;
  return {
    url,
    port: bound,
    fleet,
    app,
    server,
    createClaimToken: (input = {}) => createClaimToken(database.db, input, 'system', fleet.now()),
    createUser: addUser,
    createAdmin: (username, password) => addUser(username, 'admin', password),
    close: async () => {
      if (closed) return;
      closed = true;
      await fleet.hub.close();
      fleet.rollouts.close();
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
      await fleet.telemetry.close();
      await checkpointer.stop();
      database.close();
    },
  };
}
