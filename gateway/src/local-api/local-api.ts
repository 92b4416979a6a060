// The local API for Node-RED flows and technicians: on the Unix socket <dataDir>/local-api.sock
// (mode 0660) and, when configured, on a localhost TCP port. Reads (status, catalog, history),
// writes (relay switches through rt, operator alarms into the journal), and the live stream of
// committed records over WebSocket. Every request but health and the description needs a token.
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { IpcEvent } from '@brana/firmware';
import { type Catalogue, loadCatalogue } from '@brana/hardware';
import { createAdaptorServer } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import { GatewayError } from '../errors.ts';
import { AlarmService } from './alarm-service.ts';
import { ApiError } from './api-error.ts';
import { createLocalApiApp, DEFAULT_LIMITS, type LocalApiLimits, STREAM_PATH } from './app.ts';
import { buildCatalog, cachedJsonFile } from './catalog.ts';
import { type CommittedRecord, SeenMarks } from './committed.ts';
import { History } from './history.ts';
import { RateLimiter } from './rate-limit.ts';
import { authorize, emptyRefusals, type Guard, type RefusalCounts } from './registry.ts';
import { type RelayCommand, Relays } from './relays.ts';
import { openLocalStore } from './store.ts';
import { STREAM_LIMITS, StreamHub, type SubscriberStats } from './stream.ts';
import { type Scope, type TokenInfo, TokenStore } from './tokens.ts';

/** A record the local API itself commits (operator alarm events), numbered in its own stream. */
export interface LocalApiRecord extends CommittedRecord {
  source: 'flow';
  record: IpcEvent & { data: Record<string, unknown>; safety: boolean };
}

export interface LocalApiOptions {
  dataDir: string;
  /** Default `<dataDir>/local-api.sock`; null: no Unix socket. */
  socketPath?: string | null;
  /** A TCP listener on localhost as well (the agent config's localApi.port); 0 picks a free port. */
  tcp?: { port: number; host?: string };
  sources: { status: () => unknown; journal: () => unknown; config: () => unknown };
  /** The running gateway config file (`<dataDir>/config/active.json`); null while none runs. */
  runningConfigPath: () => string | null;
  /** Commits records to the journal before returning (throws when it cannot). */
  commit: (records: LocalApiRecord[]) => void;
  /** Relay switching through rt (`ipc.command('rt', …)`). */
  relay: RelayCommand;
  /** Device profiles for the catalog's channels (default: the hardware catalogue). */
  profiles?: Catalogue;
  nowMs?: () => number;
  limits?: Partial<LocalApiLimits>;
  historyRetentionDays?: number;
  /** How often history is written to disk (default 5 s). */
  flushMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface LocalApiStats {
  socketPath: string | null;
  url: string | null;
  refusals: RefusalCounts;
  relaysRefused: number;
  stream: { subscribers: SubscriberStats[]; dropped: number };
  tokens: TokenInfo[];
}

export interface LocalApi {
  /** `<dataDir>/local-api.sock`, or null when the socket is off. */
  socketPath: string | null;
  /** `http://127.0.0.1:<port>` when the TCP listener is on. */
  url: string | null;
  /**
   * Offers records the journal just committed to history, relay states and stream subscribers;
   * repeats (a firmware's resend after a reconnect) are recognised and left out.
   */
  publish(records: readonly CommittedRecord[]): void;
  /** Mints a token (replacing that name's) and returns it; only its hash is kept. */
  issueToken(name: string, scopes: readonly Scope[]): string;
  /** Mints a token and writes it to `path` (0600) for a process that reads it (Node-RED). */
  issueTokenFile(path: string, name: string, scopes: readonly Scope[]): void;
  revokeToken(name: string): boolean;
  stats(): LocalApiStats;
  openApi(): object;
  close(): Promise<void>;
}

export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const nowMs = options.nowMs ?? Date.now;
  const log = options.log ?? ((level, m) => console.error(`[local-api] ${level}: ${m}`));
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const store = openLocalStore(join(options.dataDir, 'local-api.db'), nowMs());
  if (store.movedAside)
    log('warn', `local API store was unusable; moved to ${store.movedAside} and started a new one`);
  const db = store.db;
  const tokens = new TokenStore(db);
  const guard: Guard = {
    tokens,
    reads: new RateLimiter({ ratePerS: limits.readsPerS, burst: limits.readBurst }),
    writes: new RateLimiter({ ratePerS: limits.writesPerS, burst: limits.writeBurst }),
    refusedAuth: new RateLimiter({ ratePerS: limits.refusedAuthPerS, burst: limits.refusedAuthBurst }),
    refusals: emptyRefusals(),
    nowMs,
  };
  const history = new History(db, {
    nowMs,
    ...(options.historyRetentionDays === undefined ? {} : { retentionDays: options.historyRetentionDays }),
  });
  const relays = new Relays(options.relay);
  const hub = new StreamHub({ nowMs, maxSubscribers: limits.subscribers });
  const runningConfig = cachedJsonFile(options.runningConfigPath);
  let profiles = options.profiles;
  const catalog = () => {
    if (!profiles) {
      try {
        profiles = loadCatalogue();
      } catch (err) {
        log('warn', `device profiles could not be loaded for the catalog: ${(err as Error).message}`);
        profiles = new Map();
      }
    }
    return buildCatalog(runningConfig(), profiles, history.channels(), relays.states());
  };
  const seen = new SeenMarks();
  const publish = (records: readonly CommittedRecord[]) => {
    const fresh = seen.fresh(records);
    if (fresh.length === 0) return;
    history.observe(fresh);
    relays.observe(fresh);
    hub.publish(fresh);
  };

  // The local API's own record stream (source "flow"): one epoch per start, numbered from 1.
  const flowEpoch = nowMs();
  let flowSeq = 0;
  const alarms = new AlarmService({
    db,
    nowMs,
    inputNames: () => new Set(catalog().alarms.map((a) => a.name)),
    commit: (event) => {
      const record: LocalApiRecord = {
        source: 'flow',
        bootEpoch: flowEpoch,
        seq: ++flowSeq,
        record: { ...event, data: event.data ?? {} },
      };
      try {
        options.commit([record]);
      } catch (err) {
        log('error', `operator alarm not journalled: ${(err as Error).message}`);
        throw new ApiError(
          503,
          'journal-unavailable',
          'the journal cannot take the event now; nothing changed',
          {
            fix: 'try again; the agent log says why',
            retryAfterS: 5,
          },
        );
      }
      publish([record]);
      return { bootEpoch: record.bootEpoch, seq: record.seq };
    },
  });

  let socketPath: string | null = null;
  let url: string | null = null;
  const stats = (): LocalApiStats => ({
    socketPath,
    url,
    refusals: { ...guard.refusals },
    relaysRefused: relays.refused,
    stream: hub.stats(),
    tokens: tokens.list(),
  });
  const { app, openApi } = createLocalApiApp({
    guard,
    limits,
    history,
    alarms,
    relays,
    catalog,
    status: () => ({ ...(options.sources.status() as object), localApi: stats() }),
    journal: options.sources.journal,
    config: options.sources.config,
    log,
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: STREAM_LIMITS.maxClientMessageBytes });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (err: ApiError) => {
      const body = JSON.stringify(err.body());
      socket.end(
        `HTTP/1.1 ${err.status} ${err.status === 503 ? 'Service Unavailable' : err.status === 404 ? 'Not Found' : 'Refused'}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    if ((req.url ?? '').split('?')[0] !== STREAM_PATH) {
      guard.refusals.notFound++;
      return refuse(new ApiError(404, 'not-found', `WebSocket only at ${STREAM_PATH}`));
    }
    let caller: { token: string };
    try {
      caller = authorize(guard, req.headers.authorization, 'read', false);
    } catch (err) {
      return refuse(err as ApiError);
    }
    if (hub.full()) {
      guard.refusals.rateLimited++;
      return refuse(new ApiError(503, 'busy', `${limits.subscribers} stream subscribers already; close one`));
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
      hub.attach(ws, caller.token);
    });
  };
  // A subscriber that stops answering pings (a frozen Node-RED) is cut off after 30-60 s.
  const alive = new WeakMap<object, boolean>();
  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, 30_000);
  pinger.unref();

  const servers: Server[] = [];
  const flusher = setInterval(() => {
    try {
      history.flush();
    } catch (err) {
      log('warn', `history not written: ${(err as Error).message}`);
    }
  }, options.flushMs ?? 5000);
  flusher.unref();
  const close = async () => {
    clearInterval(pinger);
    clearInterval(flusher);
    hub.close();
    wss.close();
    for (const s of servers) {
      s.closeAllConnections?.();
      await new Promise<void>((r) => s.close(() => r()));
    }
    if (socketPath) removeSocket(socketPath);
    try {
      history.flush();
    } catch (err) {
      log('warn', `history not written at close: ${(err as Error).message}`);
    }
    db.close();
  };

  try {
    const wanted =
      options.socketPath === undefined ? join(options.dataDir, 'local-api.sock') : options.socketPath;
    if (wanted !== null) {
      removeSocket(wanted);
      const server = createAdaptorServer({ fetch: app.fetch }) as Server;
      servers.push(server);
      await listen(server, wanted, `the Unix socket ${wanted}`);
      // Owner and group (the Node-RED user's group on a Pi) may connect; nobody else.
      chmodSync(wanted, 0o660);
      server.on('upgrade', onUpgrade);
      socketPath = wanted;
    }
    if (options.tcp) {
      const host = options.tcp.host ?? '127.0.0.1';
      const server = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
      servers.push(server);
      await listen(server, { port: options.tcp.port, host }, `${host}:${options.tcp.port}`);
      server.on('upgrade', onUpgrade);
      url = `http://${host}:${(server.address() as AddressInfo).port}`;
    }
  } catch (err) {
    await close();
    throw err;
  }

  return {
    socketPath,
    url,
    publish,
    issueToken: (name, scopes) => tokens.issue(name, scopes, nowMs()),
    issueTokenFile: (path, name, scopes) => tokens.issueFile(path, name, scopes),
    revokeToken: (name) => tokens.revoke(name),
    stats,
    openApi,
    close,
  };
}

function listen(server: Server, at: string | { port: number; host: string }, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new GatewayError(
          `local API cannot listen on ${what} (${err.message}). Fix: ${typeof at === 'string' ? 'check that the data directory is writable and no other agent runs' : 'choose another localApi.port'}`,
          { code: 'LOCAL_API_LISTEN', cause: err },
        ),
      ),
    );
    if (typeof at === 'string') server.listen(at, () => resolve());
    else server.listen(at.port, at.host, () => resolve());
  });
}

/** Removes a socket file left by a crashed agent; refuses to remove anything that is not a socket. */
function removeSocket(path: string): void {
  try {
    if (!lstatSync(path).isSocket()) {
      throw new GatewayError(`${path} exists and is not a socket. Fix: move it away`, {
        code: 'LOCAL_API_LISTEN',
      });
    }
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Mints a token in the local API store of `dataDir` from outside the agent (a technician's tool, a
 * test); a running agent accepts it on its next request. Returns the token in clear, once.
 */
export function issueLocalApiToken(dataDir: string, name: string, scopes: readonly Scope[]): string {
  const { db } = openLocalStore(join(dataDir, 'local-api.db'));
  try {
    return new TokenStore(db).issue(name, scopes);
  } finally {
    db.close();
  }
}
