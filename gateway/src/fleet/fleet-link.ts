// The one WebSocket session with the fleet server: signed challenge, server proof against the
// pinned key, reconcile on every connect (hello with what runs → desired), apply reports, and the
// uploader. Upload order per session: records numbered but unacked (resends after a reconnect, so
// the server's contiguous ack can advance, and live records, which the journal numbers as it
// writes them while the link is online), then the backlog written offline, numbered just before it
// goes, at a bounded rate. A record the server refuses (`bad-record`) is quarantined by the
// journal and the rest of its batch sent again. The journal is trimmed only by the server's acks.
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
import type { Journal, UploadRow } from '../journal/index.ts';
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
  /** Records the server refused (bad-record); the journal keeps them in quarantine. */
  refusedRecords: number;
}

interface SentBatch {
  firstSeq: number;
  lastSeq: number;
  backlog: boolean;
  /** Upload seqs in wire order (readings first, then events): what a bad-record `index` names. */
  wireSeqs: number[];
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
  #refusedRecords = 0;
  /** Refusals per upload seq; a record refused again and again (stand-in too) ends the session. */
  readonly #refusals = new Map<number, number>();
  /** Readings go as columns unless the server turned them down (one older than this agent). */
  #readingsAs: ReadingsForm = 'columns';
  // Per session:
  #uploading = false;
  #lastSentSeq = 0;
  /** Upload seqs of the backlog numbered last in this session (it counts against the backlog window). */
  #backlog = { from: 1, to: 0 };
  /** Batches to send again (a record in them was refused and quarantined). */
  #resend: { from: number; to: number }[] = [];
  #inFlight = new Map<string, SentBatch>();
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
      refusedRecords: this.#refusedRecords,
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
        if (msg.code === 'bad-record' && this.#refused(ws, msg)) return;
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
        } else if (msg.code === 'internal' || msg.code === 'bad-record') {
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
    this.#backlog = { from: 1, to: 0 };
    this.#resend = [];
    this.#tokens = 0;
    this.#lastTickMs = this.#o.clock.monotonicMs();
    // From now on the journal numbers what it writes: live records go out first.
    this.#o.journal.setLive(true);
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
    if (!ws) return;
    try {
      this.#pumpOn(ws);
    } catch (err) {
      // The journal could not be read or written (a damaged chunk, a failing disk): not the
      // server's fault. Say so and try again on the next tick.
      this.#fail(`cannot upload from the journal (${(err as Error).message})`);
    }
  }

  #pumpOn(ws: WebSocket): void {
    const j = this.#o.journal;
    const size = this.#o.batchSize;
    while (
      this.#uploading &&
      ws.readyState === WebSocket.OPEN &&
      this.#inFlight.size < this.#o.maxInFlightBatches &&
      ws.bufferedAmount < 4 * 1024 * 1024
    ) {
      let rows: UploadRow[];
      const again = this.#resend[0];
      if (again) {
        rows = j.numbered(again.from - 1, Math.min(size, again.to - again.from + 1));
        rows = rows.filter((r) => r.uploadSeq <= again.to);
        if (rows.length === 0 || rows[rows.length - 1]!.uploadSeq >= again.to) this.#resend.shift();
        else again.from = rows[rows.length - 1]!.uploadSeq + 1;
        if (rows.length === 0) continue;
        this.#sendBatch(rows, false);
        continue;
      }
      rows = j.numbered(this.#lastSentSeq, size);
      if (rows.length === 0) {
        // Everything numbered is out: number the next of the backlog, if its window and rate allow.
        if (this.#backlogInFlight() >= this.#o.maxBacklogInFlight || this.#tokens < 1) return;
        const n = j.numberBacklog(Math.min(size, Math.floor(this.#tokens)));
        if (n === 0) return;
        this.#tokens -= n;
        this.#backlog = { from: this.#lastSentSeq + 1, to: this.#lastSentSeq + n };
        continue;
      }
      // A batch is all backlog or all live, so that only backlog counts against its window.
      const inBacklog = (seq: number) => seq >= this.#backlog.from && seq <= this.#backlog.to;
      const backlog = inBacklog(rows[0]!.uploadSeq);
      if (backlog && this.#backlogInFlight() >= this.#o.maxBacklogInFlight) return;
      const cut = rows.findIndex((r) => inBacklog(r.uploadSeq) !== backlog);
      if (cut > 0) rows = rows.slice(0, cut);
      this.#sendBatch(rows, backlog);
      this.#lastSentSeq = Math.max(this.#lastSentSeq, rows[rows.length - 1]!.uploadSeq);
    }
  }

  #sendBatch(rows: UploadRow[], backlog: boolean): void {
    const batchId = `b${++this.#batchCounter}`;
    const { readings, events } = toWire(rows);
    // Readings travel as columns (records to a server that refused them): about a third of the
    // bytes of records, and cheaper for the server to take in (fleet-server README, "Telemetry").
    this.#send({ type: 'telemetry', batchId, ...readingsPart(readings, this.#readingsAs), events });
    this.#inFlight.set(batchId, {
      firstSeq: rows[0]!.uploadSeq,
      lastSeq: rows[rows.length - 1]!.uploadSeq,
      backlog,
      wireSeqs: [...readings.map((r) => r.seq), ...events.map((e) => e.seq)],
    });
    this.#sentRecords += rows.length;
  }

  /**
   * The server refused one record of a batch and stored nothing of it. The journal quarantines
   * that record (a stand-in takes its number) and the batch goes again. False when the message
   * does not name a batch and record of this session: the caller ends the session instead.
   */
  #refused(
    ws: WebSocket,
    msg: { batchId?: string | undefined; index?: number | undefined; message: string; path: string },
  ): boolean {
    const batch = msg.batchId === undefined ? undefined : this.#inFlight.get(msg.batchId);
    const seq = batch && msg.index !== undefined ? batch.wireSeqs[msg.index] : undefined;
    if (!batch || seq === undefined) return false;
    const times = (this.#refusals.get(seq) ?? 0) + 1;
    this.#refusals.set(seq, times);
    if (this.#refusals.size > 1000) this.#refusals.delete(this.#refusals.keys().next().value!);
    if (times > 2) {
      this.#fail(
        `the server keeps refusing record ${seq} even as a bare stand-in (${msg.message}); uploads wait for a fix on the server`,
      );
      ws.terminate();
      return true;
    }
    this.#inFlight.delete(msg.batchId!);
    this.#refusedRecords++;
    try {
      this.#o.journal.quarantine(this.#o.journal.uploadEpoch, seq, `${msg.path}: ${msg.message}`);
    } catch (err) {
      this.#fail(`cannot quarantine record ${seq} (${(err as Error).message})`);
      ws.terminate();
      return true;
    }
    this.#resend.push({ from: batch.firstSeq, to: batch.lastSeq });
    this.#pump();
    return true;
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
    this.#o.journal.setLive(false);
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
