// Live gateway sessions over WebSocket: signed challenge, reconcile on hello, apply reports,
// telemetry with acks. One session per gateway; a newer one replaces the older.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
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
  verifySessionProof,
} from '@brana/protocol';
import type Database from 'better-sqlite3';
import { WebSocket, WebSocketServer } from 'ws';
import { getConfigDocument } from '../configs/index.ts';
import type { FleetContext } from '../context.ts';
import { loopWrite } from '../db/index.ts';
import { setLastSeen } from '../devices/last-seen.ts';
import { decodeTelemetryValue, type TelemetryIn, telemetryOfParsed } from '../telemetry/index.ts';

export interface HubOptions {
  heartbeatS?: number;
  authTimeoutMs?: number;
  maxPayloadBytes?: number;
}

interface Session {
  ws: WebSocket;
  gatewayId: string;
  gatewayNum: number;
  sessionId: string;
  lastMessageAt: number;
  lastSeenWrittenAt: number;
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
  private readonly sessions = new Map<string, Session>();
  private readonly heartbeatS: number;
  private readonly authTimeoutMs: number;
  private readonly sweep: NodeJS.Timeout;
  private ctx: FleetContext | null = null;
  private readonly desiredText = new WeakMap<SignedConfigDocument, string>();
  /** The TCP socket under each WebSocket (ws writes its frames to the socket given at upgrade). */
  private readonly sockets = new WeakMap<WebSocket, Duplex>();

  constructor(options: HubOptions = {}) {
    this.heartbeatS = options.heartbeatS ?? 20;
    this.authTimeoutMs = options.authTimeoutMs ?? 10_000;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayloadBytes ?? 8 * 1024 * 1024,
    });
    this.wss.on('connection', (ws) => this.onConnection(ws));
    // Drop sessions silent for three heartbeats: a half-open TCP connection would otherwise linger.
    this.sweep = setInterval(() => {
      const limit = Date.now() - 3 * this.heartbeatS * 1000;
      for (const s of this.sessions.values()) if (s.lastMessageAt < limit) s.ws.terminate();
    }, this.heartbeatS * 1000);
    this.sweep.unref();
  }

  private sql: ReturnType<typeof prepareHubStatements> | null = null;

  bind(ctx: FleetContext): void {
    this.ctx = ctx;
    this.sql = prepareHubStatements(ctx.database.sqlite);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.set(ws, socket);
      this.wss.emit('connection', ws, req);
    });
  }

  isOnline(gatewayId: string): boolean {
    return this.sessions.has(gatewayId);
  }

  onlineIds(): string[] {
    return [...this.sessions.keys()];
  }

  /** Sends a desired config to a gateway online now; false when it is not connected. */
  push(gatewayId: string, doc: SignedConfigDocument): boolean {
    const s = this.sessions.get(gatewayId);
    if (!s || s.ws.readyState !== WebSocket.OPEN) return false;
    // One serialisation per document, not one per gateway (a rollout pushes it thousands of times).
    let text = this.desiredText.get(doc);
    if (!text) {
      text = JSON.stringify({ type: 'desired', document: doc } satisfies ServerMessage);
      this.desiredText.set(doc, text);
    }
    s.ws.send(text);
    return true;
  }

  /** Closes a live session of a revoked gateway. */
  disconnect(gatewayId: string, code: number, reason: string): void {
    const s = this.sessions.get(gatewayId);
    if (s) s.ws.close(code, reason);
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

  private onConnection(ws: WebSocket): void {
    const ctx = this.ctx;
    if (!ctx) {
      ws.close(1011, 'server not ready');
      return;
    }
    const nonce = newNonce();
    let session: Session | null = null;
    const authTimer = setTimeout(
      () => ws.close(CLOSE_CODES.challengeTimeout, 'no answer to the challenge'),
      this.authTimeoutMs,
    );
    this.send(ws, { type: 'challenge', nonce, protocol: PROTOCOL_VERSION, serverTime: ctx.now() });

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
            this.onTelemetry(ctx, session, fast);
          } catch (err) {
            this.messageFailed(ctx, session, 'telemetry', err);
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
        if (msg.type !== 'auth') {
          this.refuse(
            ws,
            'protocol',
            'answer the challenge with an auth message first',
            CLOSE_CODES.protocolError,
          );
          return;
        }
        clearTimeout(authTimer);
        if (msg.nonce !== nonce) {
          this.refuse(ws, 'bad-nonce', 'the nonce is not the one this server sent', CLOSE_CODES.authFailed);
          return;
        }
        const gw = this.sql!.gateway.get(msg.gatewayId) as
          | { id: string; num: number; status: 'active' | 'revoked'; publicKey: string }
          | undefined;
        if (!gw) {
          this.refuse(
            ws,
            'unknown-gateway',
            'this gateway is not enrolled here; enrol it with a claim token',
            CLOSE_CODES.authFailed,
          );
          return;
        }
        if (gw.status === 'revoked') {
          this.refuse(
            ws,
            'revoked',
            'this gateway was revoked by an operator; re-enrol it with a new claim token',
            CLOSE_CODES.revoked,
          );
          return;
        }
        if (!verifySessionProof(msg.gatewayId, nonce, msg.signature, gw.publicKey)) {
          this.refuse(
            ws,
            'bad-signature',
            'the challenge signature does not verify with the enrolled key',
            CLOSE_CODES.authFailed,
          );
          return;
        }
        const now = ctx.now();
        session = {
          ws,
          gatewayId: gw.id,
          gatewayNum: gw.num,
          sessionId: newNonce().slice(0, 22),
          lastMessageAt: Date.now(),
          lastSeenWrittenAt: now,
        };
        const old = this.sessions.get(gw.id);
        this.sessions.set(gw.id, session);
        if (old) old.ws.close(CLOSE_CODES.replaced, 'replaced by a newer session');
        loopWrite(ctx.database.sqlite, () => setLastSeen(ctx.database.sqlite, gw.id, now));
        this.send(ws, {
          type: 'session',
          accepted: true,
          sessionId: session.sessionId,
          serverSignature: signServerProof(gw.id, msg.clientNonce, ctx.serverKey.privateKey),
          heartbeatS: this.heartbeatS,
        });
        ctx.bus.emit('gateway', { gatewayId: gw.id, online: true });
        return;
      }
      session.lastMessageAt = Date.now();
      try {
        this.onMessage(ctx, session, msg);
      } catch (err) {
        this.messageFailed(ctx, session, msg.type, err);
      }
    });

    ws.on('close', () => {
      clearTimeout(authTimer);
      if (session && this.sessions.get(session.gatewayId) === session) {
        this.sessions.delete(session.gatewayId);
        try {
          loopWrite(ctx.database.sqlite, () =>
            setLastSeen(ctx.database.sqlite, session!.gatewayId, ctx.now()),
          );
        } catch {
          // the database may already be closed during shutdown
        }
        ctx.bus.emit('gateway', { gatewayId: session.gatewayId, online: false });
      }
    });
    ws.on('error', () => ws.terminate());
  }

  private onMessage(ctx: FleetContext, s: Session, msg: ReturnType<typeof gatewayMessageSchema.parse>): void {
    switch (msg.type) {
      case 'hello':
        this.onHello(ctx, s, msg);
        return;
      case 'apply':
        this.onApply(ctx, s, msg);
        return;
      case 'telemetry':
        this.onTelemetry(ctx, s, telemetryOfParsed(msg));
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
  private onHello(ctx: FleetContext, s: Session, msg: HelloMessage): void {
    const now = ctx.now();
    const sql = this.sql!;
    loopWrite(ctx.database.sqlite, () =>
      sql.hello.run(
        msg.running?.version ?? null,
        msg.running?.hash ?? null,
        msg.bootEpoch,
        msg.agentVersion ?? null,
        now,
        s.gatewayId,
      ),
    );
    const gw = sql.desired.get(s.gatewayId) as { desired: number | null } | undefined;
    const doc = gw?.desired ? getConfigDocument(ctx.db, gw.desired) : null;
    this.send(s.ws, { type: 'desired', document: doc });
    this.send(s.ws, { type: 'ack', acks: ctx.telemetry.watermarks(s.gatewayNum) });
    if (doc) {
      const runsIt = msg.running?.version === doc.version && msg.running.hash === doc.hash;
      // A gateway that applied while its report was lost (outage) counts as applied now.
      ctx.rollouts.report(s.gatewayId, doc.version, runsIt ? 'applied' : 'delivered');
    }
  }

  private onApply(ctx: FleetContext, s: Session, msg: ApplyMessage): void {
    const applied = msg.state === 'applied';
    loopWrite(ctx.database.sqlite, () =>
      this.sql!.apply.run({
        state: msg.state,
        now: ctx.now(),
        version: applied ? msg.version : null,
        hash: applied ? msg.hash : null,
        id: s.gatewayId,
      }),
    );
    const state = msg.state === 'staged' || msg.state === 'trial' ? 'delivered' : msg.state;
    ctx.rollouts.report(s.gatewayId, msg.version, state, msg.errors);
    ctx.bus.emit('apply', { gatewayId: s.gatewayId, version: msg.version, state: msg.state });
  }

  private onTelemetry(ctx: FleetContext, s: Session, msg: TelemetryIn): void {
    // The last-seen time is written with the batch, at most once a minute per session.
    const now = ctx.now();
    const markSeen = now - s.lastSeenWrittenAt > 60_000;
    if (markSeen) s.lastSeenWrittenAt = now;
    ctx
      .ingestTelemetry({ num: s.gatewayNum, id: s.gatewayId }, msg, markSeen)
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
      .catch((err: unknown) => this.messageFailed(ctx, s, 'telemetry', err));
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
  private messageFailed(ctx: FleetContext, s: Session, type: string, err: unknown): void {
    ctx.log.error('gateway message failed', { gatewayId: s.gatewayId, type, error: String(err) });
    if (s.ws.readyState !== WebSocket.OPEN) return;
    this.send(s.ws, {
      type: 'error',
      code: 'internal',
      message: 'the server could not process this message; resend it later',
      path: '(root)',
    });
  }
}
