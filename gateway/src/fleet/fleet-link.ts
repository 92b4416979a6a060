// The one WebSocket session with the fleet server: signed challenge, server proof against the
// pinned key, reconcile on every connect (hello with what runs → desired), apply reports, and the
// uploader. Upload order per session: rows sent but unacked before (so the server's contiguous
// ack can advance), then live rows (committed since the session began), then the backlog at a
// bounded rate. The journal is trimmed only by the server's acks.
import type { Clock, TimerHandle } from '@brana/firmware';
import {
  type ApplyMessage,
  type ConfigRef,
  GATEWAY_WS_PATH,
  type GatewayMessageInput,
  newNonce,
  PROTOCOL_VERSION,
  parseWire,
  type ReadingsForm,
  readingsPart,
  type ServerMessage,
  type SignedConfigDocument,
  serverMessageSchema,
  signSessionProof,
  verifyServerProof,
} from '@brana/protocol';
import { WebSocket } from 'ws';
import { FleetProtocolError } from '../errors.ts';
import type { Journal } from '../journal/index.ts';
import { AGENT_VERSION, type Identity } from './identity.ts';
import { toWire } from './wire-records.ts';

export type LinkState = 'stopped' | 'connecting' | 'authenticating' | 'online' | 'waiting';

export interface FleetLinkOptions {
  identity: Identity;
  journal: Journal;
  clock: Clock;
  /** What the gateway runs now (reported in hello on every connect). */
  running: () => ConfigRef | null;
  /** The server's answer to hello (and any later push); verify it before use. */
  onDesired: (document: SignedConfigDocument | null) => void;
  /** Records per telemetry message (default 500, the wire limit is 5000). */
  batchSize?: number;
  /** Backlog drain rate (default 20,000 readings/s); live rows are not limited. */
  backlogPerS?: number;
  /** Telemetry messages awaiting an ack at most (default 8). */
  maxInFlightBatches?: number;
  /**
   * Backlog messages awaiting an ack at most (default 2): the server handles messages in order, so
   * this bounds how much backlog a live reading can find queued ahead of it.
   */
  maxBacklogInFlight?: number;
  /** Upload tick (default 100 ms): the most a live reading waits for the next send. */
  tickMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface FleetLinkStats {
  state: LinkState;
  gatewayId: string | undefined;
  sessions: number;
  protocolErrors: number;
  lastError: string | undefined;
  sentRecords: number;
  ackedSeq: number;
  inFlightBatches: number;
}

export class FleetLink {
  readonly #o: Required<Omit<FleetLinkOptions, 'log'>> & Pick<FleetLinkOptions, 'log'>;
  #state: LinkState = 'stopped';
  #ws: WebSocket | undefined;
  #retry: TimerHandle | undefined;
  #tick: TimerHandle | undefined;
  #backoffMs: number;
  #sessions = 0;
  #protocolErrors = 0;
  #lastError: string | undefined;
  #sentRecords = 0;
  #ackedSeq = 0;
  /** Readings go as columns unless the server turned them down (one older than this agent). */
  #readingsAs: ReadingsForm = 'columns';
  // Per session:
  #uploading = false;
  #lastSentSeq = 0;
  #liveFromId = 0;
  #inFlight = new Map<string, { lastSeq: number; backlog: boolean }>();
  #batchCounter = 0;
  #tokens = 0;
  #lastTickMs = 0;
  #lastHeardMs = 0;
  #heartbeatMs = 30_000;
  #pendingReports: ApplyMessage[] = [];
  readonly #closedByUs = new WeakSet<WebSocket>();

  constructor(options: FleetLinkOptions) {
    this.#o = {
      batchSize: 500,
      backlogPerS: 20_000,
      maxInFlightBatches: 8,
      maxBacklogInFlight: 2,
      tickMs: 100,
      reconnectMinMs: 500,
      reconnectMaxMs: 30_000,
      ...options,
    };
    this.#backoffMs = this.#o.reconnectMinMs;
  }

  start(): void {
    if (this.#state !== 'stopped') return;
    const enrolment = this.#o.identity.enrolment;
    if (!enrolment)
      throw new FleetProtocolError('the gateway is not enrolled; run `brana-gateway enrol` first');
    this.#connect();
  }

  stop(): void {
    this.#state = 'stopped';
    if (this.#retry) this.#o.clock.clearTimeout(this.#retry);
    if (this.#tick) this.#o.clock.clearInterval(this.#tick);
    this.#retry = undefined;
    this.#tick = undefined;
    this.#ws?.terminate();
    this.#ws = undefined;
  }

  stats(): FleetLinkStats {
    return {
      state: this.#state,
      gatewayId: this.#o.identity.enrolment?.gatewayId,
      sessions: this.#sessions,
      protocolErrors: this.#protocolErrors,
      lastError: this.#lastError,
      sentRecords: this.#sentRecords,
      ackedSeq: this.#ackedSeq,
      inFlightBatches: this.#inFlight.size,
    };
  }

  /** Reports an apply step; kept and sent on the next session when offline. */
  report(message: Omit<ApplyMessage, 'type'>): void {
    const msg: ApplyMessage = { type: 'apply', ...message };
    if (this.#state === 'online') this.#send(msg);
    else this.#pendingReports.push(msg);
  }

  /** Upload now rather than at the next tick (called when the journal committed a batch). */
  nudge(): void {
    if (this.#uploading) this.#pump();
  }

  #connect(): void {
    const enrolment = this.#o.identity.enrolment!;
    this.#state = 'connecting';
    const url = enrolment.serverUrl.replace(/^http/, 'ws') + GATEWAY_WS_PATH;
    const ws = new WebSocket(url, { handshakeTimeout: 10_000, maxPayload: 16 * 1024 * 1024 });
    this.#ws = ws;
    const clientNonce = newNonce();
    ws.on('open', () => {
      if (this.#ws === ws) this.#state = 'authenticating';
      this.#lastHeardMs = this.#o.clock.monotonicMs();
    });
    ws.on('message', (data, isBinary) => {
      if (this.#ws !== ws) return;
      this.#lastHeardMs = this.#o.clock.monotonicMs();
      if (isBinary) {
        this.#protocolError(ws, 'sent a binary frame; the protocol is JSON text');
        return;
      }
      const parsed = parseWire(serverMessageSchema, data.toString());
      if (!parsed.ok) {
        const i = parsed.issues[0];
        const type = /"type"\s*:\s*"([a-z]{1,20})"/.exec(data.toString().slice(0, 200))?.[1];
        const what = type === undefined ? 'a message' : `a "${type}" message`;
        this.#protocolError(ws, `sent ${what} that is not the wire protocol (${i?.path}: ${i?.message})`);
        return;
      }
      try {
        this.#onMessage(ws, parsed.value, clientNonce);
      } catch (err) {
        this.#protocolError(ws, (err as Error).message);
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      this.#fail(`the server answered the WebSocket upgrade with HTTP ${res.statusCode}`);
      ws.terminate();
    });
    ws.on('error', (err) => this.#fail(`connection error (${err.message})`));
    ws.on('close', (code, reason) => {
      if (this.#ws !== ws) return;
      if (code >= 4000 && !this.#closedByUs.has(ws))
        this.#fail(`the server closed the session (${code} ${reason.toString()})`);
      this.#endSession();
      if (this.#state === 'stopped') return;
      this.#state = 'waiting';
      // Full jitter around the backoff so a fleet does not reconnect in lockstep after an outage.
      const delay = this.#backoffMs * (0.5 + Math.random() * 0.5);
      this.#backoffMs = Math.min(this.#o.reconnectMaxMs, this.#backoffMs * 2);
      this.#retry = this.#o.clock.setTimeout(() => {
        this.#retry = undefined;
        if (this.#state === 'waiting') this.#connect();
      }, delay);
    });
  }

  #onMessage(ws: WebSocket, msg: ServerMessage, clientNonce: string): void {
    const enrolment = this.#o.identity.enrolment!;
    switch (msg.type) {
      case 'challenge': {
        this.#send({
          type: 'auth',
          gatewayId: enrolment.gatewayId,
          nonce: msg.nonce,
          signature: signSessionProof(enrolment.gatewayId, msg.nonce, this.#o.identity.privateKey),
          clientNonce,
        });
        return;
      }
      case 'session': {
        if (!msg.accepted) {
          this.#fail(`the server refused the session (${msg.reason}: ${msg.message})`);
          this.#closedByUs.add(ws);
          ws.close();
          return;
        }
        if (
          !verifyServerProof(enrolment.gatewayId, clientNonce, msg.serverSignature, enrolment.serverPublicKey)
        ) {
          this.#protocolError(ws, 'did not prove it holds the pinned server key; refusing this server');
          return;
        }
        this.#state = 'online';
        this.#sessions++;
        // Rows committed from now on are live; older ones (the outage) are backlog.
        this.#liveFromId = this.#o.journal.lastId();
        this.#backoffMs = this.#o.reconnectMinMs;
        this.#heartbeatMs = msg.heartbeatS * 1000;
        this.#send({
          type: 'hello',
          protocol: PROTOCOL_VERSION,
          running: this.#o.running(),
          bootEpoch: this.#o.journal.uploadEpoch,
          agentVersion: AGENT_VERSION,
        });
        for (const r of this.#pendingReports.splice(0)) this.#send(r);
        return;
      }
      case 'desired':
        this.#o.onDesired(msg.document);
        return;
      case 'ack': {
        if (msg.batchId !== undefined) this.#inFlight.delete(msg.batchId);
        for (const a of msg.acks) {
          if (a.bootEpoch === this.#o.journal.uploadEpoch && a.seq > this.#ackedSeq) {
            if (a.seq > this.#lastSentSeq && this.#uploading) {
              throw new Error(`acked seq ${a.seq} beyond what this gateway sent (${this.#lastSentSeq})`);
            }
            this.#o.journal.ack(a.bootEpoch, a.seq);
            this.#ackedSeq = a.seq;
          }
        }
        // The first ack of a session (sent right after hello) holds the server's watermarks:
        // only now is it known what to resend.
        if (!this.#uploading) this.#beginUpload();
        else this.#pump();
        return;
      }
      case 'error':
        this.#fail(`the server reported ${msg.code} at ${msg.path}: ${msg.message}`);
        // A fleet server from before the column form refuses it as an unknown key. Send records
        // from now on, and start a new session so that what it refused is sent again.
        if (
          this.#readingsAs === 'columns' &&
          msg.code === 'bad-message' &&
          msg.message.includes('"columns"')
        ) {
          this.#readingsAs = 'records';
          this.#o.log?.(
            'warn',
            'the fleet server does not take readings as columns (it is older than this agent); sending records instead',
          );
          ws.terminate();
        } else if (msg.code === 'internal') {
          // The server could not store a batch (its writer restarting, a full disk) and will not
          // ack it. Left in flight it would hold its slot until the session ends; end it now, and
          // the next session (after the backoff) sends everything unacked again.
          ws.terminate();
        }
        return;
      case 'ping':
        this.#send({ type: 'pong', t: msg.t });
        return;
      case 'pong':
        return;
    }
  }

  #beginUpload(): void {
    this.#uploading = true;
    this.#lastSentSeq = this.#ackedSeq;
    this.#tokens = 0;
    this.#lastTickMs = this.#o.clock.monotonicMs();
    this.#tick = this.#o.clock.setInterval(() => this.#onTick(), this.#o.tickMs);
    this.#pump();
  }

  #onTick(): void {
    const now = this.#o.clock.monotonicMs();
    const dt = (now - this.#lastTickMs) / 1000;
    this.#lastTickMs = now;
    this.#tokens = Math.min(this.#o.backlogPerS, this.#tokens + dt * this.#o.backlogPerS);
    if (now - this.#lastHeardMs > this.#heartbeatMs) this.#send({ type: 'ping', t: Date.now() });
    if (now - this.#lastHeardMs > 3 * this.#heartbeatMs) {
      this.#fail('the server went silent for three heartbeats');
      this.#ws?.terminate();
      return;
    }
    this.#pump();
  }

  #pump(): void {
    const ws = this.#ws;
    const j = this.#o.journal;
    while (
      this.#uploading &&
      ws &&
      ws.readyState === WebSocket.OPEN &&
      this.#inFlight.size < this.#o.maxInFlightBatches &&
      ws.bufferedAmount < 4 * 1024 * 1024
    ) {
      let rows = j.inFlight(this.#o.batchSize, this.#lastSentSeq);
      if (rows.length === 0) rows = j.takeUnsent(this.#o.batchSize, 'live', this.#liveFromId);
      let backlog = false;
      if (rows.length === 0 && this.#backlogInFlight() < this.#o.maxBacklogInFlight) {
        const n = Math.min(this.#o.batchSize, Math.floor(this.#tokens));
        rows = j.takeUnsent(n, 'backlog', this.#liveFromId);
        this.#tokens -= rows.length;
        backlog = true;
      }
      if (rows.length === 0) return;
      const batchId = `b${++this.#batchCounter}`;
      const { readings, events } = toWire(rows);
      // Readings travel as columns (records to a server that refused them): about a third of the
      // bytes of records, and cheaper for the server to take in (fleet-server README, "Telemetry").
      this.#send({ type: 'telemetry', batchId, ...readingsPart(readings, this.#readingsAs), events });
      this.#lastSentSeq = rows[rows.length - 1]!.uploadSeq;
      this.#inFlight.set(batchId, { lastSeq: this.#lastSentSeq, backlog });
      this.#sentRecords += rows.length;
    }
  }

  #backlogInFlight(): number {
    let n = 0;
    for (const b of this.#inFlight.values()) if (b.backlog) n++;
    return n;
  }

  #send(msg: GatewayMessageInput): void {
    this.#ws?.send(JSON.stringify(msg));
  }

  #endSession(): void {
    this.#uploading = false;
    this.#inFlight.clear();
    if (this.#tick) this.#o.clock.clearInterval(this.#tick);
    this.#tick = undefined;
    this.#ws = undefined;
  }

  #protocolError(ws: WebSocket, problem: string): void {
    this.#protocolErrors++;
    const err = new FleetProtocolError(problem);
    this.#fail(err.message);
    this.#closedByUs.add(ws);
    ws.close(4008, 'protocol error');
    // A server that keeps talking garbage is not waited for politely.
    setTimeout(() => ws.terminate(), 1000).unref();
  }

  #fail(message: string): void {
    this.#lastError = message;
    this.#o.log?.('warn', message);
  }
}
