// The gateways' WebSocket endpoint: signed challenge, reconcile on hello, apply reports handed to
// rollouts, telemetry stored and acked. Made with everything it talks to (GatewayHubDeps).
import type { KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  type AckEntry,
  type ApplyError,
  type ApplyMessage,
  CLOSE_CODES,
  type GatewayMessage,
  gatewayMessageSchema,
  type HelloMessage,
  newNonce,
  type ParseResult,
  PROTOCOL_VERSION,
  parseWireValue,
  type ServerMessage,
  type SessionRefusalReason,
  type SignedConfigDocument,
  signServerProof,
  type TelemetryAck,
  verifySessionProof,
} from '@brana/protocol';
import type Database from 'better-sqlite3';
import { WebSocket, WebSocketServer } from 'ws';
import type { FleetBus, Logger } from '../core/index.ts';
import { loopWrite } from '../db/index.ts';
import {
  decodeTelemetryValue,
  setLastSeen,
  type TelemetryIn,
  telemetryOfParsed,
} from '../telemetry/index.ts';
import type { GatewaySessions, Session } from './sessions.ts';

export interface GatewayHubDeps {
  /** The event loop's connection (prepared statements for sessions and reports). */
  sqlite: Database.Database;
  sessions: GatewaySessions;
  serverKey: KeyObject;
  /** The signed document of a config version. */
  configDocument(version: number): SignedConfigDocument;
  /** Where apply reports go (the rollout service). */
  reportApply(
    gatewayId: string,
    version: number,
    state: 'delivered' | 'applied' | 'failed' | 'rolledBack',
    errors?: ApplyError[],
  ): void;
  telemetry: {
    ingest(
      gateway: { num: number; id: string },
      batch: TelemetryIn,
      markSeen?: boolean,
    ): Promise<TelemetryAck>;
    watermarks(gatewayNum: number): AckEntry[];
  };
  bus: FleetBus;
  log: Logger;
  now(): number;
  /** The gateway should ping at least this often; silent sessions are dropped after 3×. Default 20. */
  heartbeatS?: number | undefined;
  authTimeoutMs?: number | undefined;
  maxPayloadBytes?: number | undefined;
}

// Prepared statements: these run for every session and report; drizzle's query building per call
// cost more than the queries themselves in the fan-out benchmark.
function prepareHubStatements(sqlite: Database.Database) {
  return {
    gateway: sqlite.prepare('SELECT id, num, status, public_key AS publicKey FROM gateways WHERE id = ?'),
    hello: sqlite.prepare(
      `UPDATE gateways SET running_version = ?, running_hash = ?, boot_epoch = ?, agent_version = ?, last_seen_at = ?
       WHERE id = ?`,
    ),
    desired: sqlite.prepare('SELECT desired_version AS desired FROM gateways WHERE id = ?'),
    apply: sqlite.prepare(
      `UPDATE gateways SET apply_state = @state, apply_updated_at = @now, last_seen_at = @now,
         running_version = coalesce(@version, running_version), running_hash = coalesce(@hash, running_hash)
       WHERE id = @id`,
    ),
  };
}

export class GatewayHub {
  private readonly wss: WebSocketServer;
  private readonly heartbeatS: number;
  private readonly authTimeoutMs: number;
  private readonly sweep: NodeJS.Timeout;
  private readonly sql: ReturnType<typeof prepareHubStatements>;
  /** The TCP socket under each WebSocket (ws writes its frames to the socket given at upgrade). */
  private readonly sockets = new WeakMap<WebSocket, Duplex>();

  constructor(private readonly deps: GatewayHubDeps) {
    this.heartbeatS = deps.heartbeatS ?? 20;
    this.authTimeoutMs = deps.authTimeoutMs ?? 10_000;
    this.sql = prepareHubStatements(deps.sqlite);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxPayloadBytes ?? 8 * 1024 * 1024 });
    this.wss.on('connection', (ws) => this.onConnection(ws));
    // Drop sessions silent for three heartbeats: a half-open TCP connection would otherwise linger.
    this.sweep = setInterval(() => {
      const limit = Date.now() - 3 * this.heartbeatS * 1000;
      for (const s of deps.sessions.all()) if (s.lastMessageAt < limit) s.ws.terminate();
    }, this.heartbeatS * 1000);
    this.sweep.unref();
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.set(ws, socket);
      this.wss.emit('connection', ws, req);
    });
  }

  async close(): Promise<void> {
    clearInterval(this.sweep);
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }

  private send(ws: WebSocket, msg: ServerMessage): void {
    ws.send(JSON.stringify(msg));
  }

  private refuse(ws: WebSocket, reason: SessionRefusalReason, message: string, code: number): void {
    this.send(ws, { type: 'session', accepted: false, reason, message });
    ws.close(code, reason);
  }

  /** last_seen_at on the event loop's connection, through the write gate. */
  private markSeen(gatewayId: string, at: number): void {
    loopWrite(this.deps.sqlite, () => setLastSeen(this.deps.sqlite, gatewayId, at));
  }

  private onConnection(ws: WebSocket): void {
    const { deps } = this;
    const nonce = newNonce();
    let session: Session | null = null;
    const authTimer = setTimeout(
      () => ws.close(CLOSE_CODES.challengeTimeout, 'no answer to the challenge'),
      this.authTimeoutMs,
    );
    this.send(ws, { type: 'challenge', nonce, protocol: PROTOCOL_VERSION, serverTime: deps.now() });

    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.send(ws, {
          type: 'error',
          code: 'protocol',
          message: 'send JSON text frames, not binary',
          path: '(root)',
        });
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(data.toString('utf8'));
      } catch (e) {
        this.send(ws, {
          type: 'error',
          code: 'bad-message',
          message: `not JSON: ${(e as Error).message}`,
          path: '(root)',
        });
        if (!session) ws.close(CLOSE_CODES.protocolError, 'bad message before auth');
        return;
      }
      // Telemetry is most of the traffic: a valid batch skips zod and goes straight into columns
      // (telemetry/columns.ts).
      if (session) {
        const fast = decodeTelemetryValue(json, 'message');
        if (fast.kind === 'readings') {
          session.lastMessageAt = Date.now();
          try {
            this.onTelemetry(session, fast);
          } catch (err) {
            this.messageFailed(session, 'telemetry', err);
          }
          return;
        }
      }
      const parsed: ParseResult<GatewayMessage> = parseWireValue(gatewayMessageSchema, json);
      if (!parsed.ok) {
        const issue = parsed.issues[0]!;
        this.send(ws, { type: 'error', code: 'bad-message', message: issue.message, path: issue.path });
        if (!session) ws.close(CLOSE_CODES.protocolError, 'bad message before auth');
        return;
      }
      const msg = parsed.value;
      if (!session) {
        clearTimeout(authTimer);
        session = this.authenticate(ws, nonce, msg);
        return;
      }
      session.lastMessageAt = Date.now();
      try {
        this.onMessage(session, msg);
      } catch (err) {
        this.messageFailed(session, msg.type, err);
      }
    });

    ws.on('close', () => {
      clearTimeout(authTimer);
      if (session && deps.sessions.close(session)) {
        try {
          this.markSeen(session.gatewayId, deps.now());
        } catch {
          // the database may already be closed during shutdown
        }
        deps.bus.emit('gateway', { gatewayId: session.gatewayId, online: false });
      }
    });
    ws.on('error', () => ws.terminate());
  }

  /** The first message must answer the challenge: a session, or a refusal that says why. */
  private authenticate(ws: WebSocket, nonce: string, msg: GatewayMessage): Session | null {
    const { deps } = this;
    if (msg.type !== 'auth') {
      this.refuse(
        ws,
        'protocol',
        'answer the challenge with an auth message first',
        CLOSE_CODES.protocolError,
      );
      return null;
    }
    if (msg.nonce !== nonce) {
      this.refuse(ws, 'bad-nonce', 'the nonce is not the one this server sent', CLOSE_CODES.authFailed);
      return null;
    }
    const gw = this.sql.gateway.get(msg.gatewayId) as
      | { id: string; num: number; status: 'active' | 'revoked'; publicKey: string }
      | undefined;
    if (!gw) {
      this.refuse(
        ws,
        'unknown-gateway',
        'this gateway is not enrolled here; enrol it with a claim token',
        CLOSE_CODES.authFailed,
      );
      return null;
    }
    if (gw.status === 'revoked') {
      this.refuse(
        ws,
        'revoked',
        'this gateway was revoked by an operator; re-enrol it with a new claim token',
        CLOSE_CODES.revoked,
      );
      return null;
    }
    if (!verifySessionProof(msg.gatewayId, nonce, msg.signature, gw.publicKey)) {
      this.refuse(
        ws,
        'bad-signature',
        'the challenge signature does not verify with the enrolled key',
        CLOSE_CODES.authFailed,
      );
      return null;
    }
    const now = deps.now();
    const session: Session = {
      ws,
      gatewayId: gw.id,
      gatewayNum: gw.num,
      sessionId: newNonce().slice(0, 22),
      lastMessageAt: Date.now(),
      lastSeenWrittenAt: now,
    };
    const old = deps.sessions.open(session);
    if (old) old.ws.close(CLOSE_CODES.replaced, 'replaced by a newer session');
    this.markSeen(gw.id, now);
    this.send(ws, {
      type: 'session',
      accepted: true,
      sessionId: session.sessionId,
      serverSignature: signServerProof(gw.id, msg.clientNonce, deps.serverKey),
      heartbeatS: this.heartbeatS,
    });
    deps.bus.emit('gateway', { gatewayId: gw.id, online: true });
    return session;
  }

  private onMessage(s: Session, msg: GatewayMessage): void {
    switch (msg.type) {
      case 'hello':
        this.onHello(s, msg);
        return;
      case 'apply':
        this.onApply(s, msg);
        return;
      case 'telemetry':
        this.onTelemetry(s, telemetryOfParsed(msg));
        return;
      case 'ping':
        this.send(s.ws, { type: 'pong', t: msg.t });
        return;
      case 'pong':
        return;
      case 'auth':
        this.send(s.ws, {
          type: 'error',
          code: 'protocol',
          message: 'this session is already authenticated',
          path: 'type',
        });
        return;
    }
  }

  /** Reconcile: store what the gateway runs, answer with what it should run and the acks held. */
  private onHello(s: Session, msg: HelloMessage): void {
    const { deps } = this;
    const now = deps.now();
    loopWrite(deps.sqlite, () =>
      this.sql.hello.run(
        msg.running?.version ?? null,
        msg.running?.hash ?? null,
        msg.bootEpoch,
        msg.agentVersion ?? null,
        now,
        s.gatewayId,
      ),
    );
    const gw = this.sql.desired.get(s.gatewayId) as { desired: number | null } | undefined;
    const doc = gw?.desired ? deps.configDocument(gw.desired) : null;
    this.send(s.ws, { type: 'desired', document: doc });
    this.send(s.ws, { type: 'ack', acks: deps.telemetry.watermarks(s.gatewayNum) });
    if (doc) {
      const runsIt = msg.running?.version === doc.version && msg.running.hash === doc.hash;
      // A gateway that applied while its report was lost (outage) counts as applied now.
      deps.reportApply(s.gatewayId, doc.version, runsIt ? 'applied' : 'delivered');
    }
  }

  private onApply(s: Session, msg: ApplyMessage): void {
    const { deps } = this;
    const applied = msg.state === 'applied';
    loopWrite(deps.sqlite, () =>
      this.sql.apply.run({
        state: msg.state,
        now: deps.now(),
        version: applied ? msg.version : null,
        hash: applied ? msg.hash : null,
        id: s.gatewayId,
      }),
    );
    const state = msg.state === 'staged' || msg.state === 'trial' ? 'delivered' : msg.state;
    deps.reportApply(s.gatewayId, msg.version, state, msg.errors);
    deps.bus.emit('apply', { gatewayId: s.gatewayId, version: msg.version, state: msg.state });
  }

  private onTelemetry(s: Session, msg: TelemetryIn): void {
    // The last-seen time is written with the batch, at most once a minute per session.
    const now = this.deps.now();
    const markSeen = now - s.lastSeenWrittenAt > 60_000;
    if (markSeen) s.lastSeenWrittenAt = now;
    this.deps.telemetry
      .ingest({ num: s.gatewayNum, id: s.gatewayId }, msg, markSeen)
      .then((ack) => {
        this.corkUntilNextTick(s.ws);
        this.send(s.ws, {
          type: 'ack',
          ...(msg.batchId === undefined ? {} : { batchId: msg.batchId }),
          acks: ack.acks,
        });
      })
      // Not acked (or failed after the ack): a gateway keeps unacked records in its journal and
      // sends them again.
      .catch((err: unknown) => this.messageFailed(s, 'telemetry', err));
  }

  /**
   * The acks of one group commit are sent in the same turn; a gateway draining its journal has
   * several batches in each, and corked they leave in one write instead of one system call each.
   */
  private corkUntilNextTick(ws: WebSocket): void {
    const socket = this.sockets.get(ws);
    if (!socket || socket.writableCorked > 0) return;
    socket.cork();
    process.nextTick(() => socket.uncork());
  }

  /** Logs a message the server could not process and tells the gateway to resend it later. */
  private messageFailed(s: Session, type: string, err: unknown): void {
    this.deps.log.error('gateway message failed', { gatewayId: s.gatewayId, type, error: String(err) });
    if (s.ws.readyState !== WebSocket.OPEN) return;
    this.send(s.ws, {
      type: 'error',
      code: 'internal',
      message: 'the server could not process this message; resend it later',
      path: '(root)',
    });
  }
}
