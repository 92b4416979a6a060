// A gateway that speaks the real wire protocol (Ed25519 enrolment, signed challenge, reconcile,
// apply reports, telemetry with acks) without firmware: for tests, benchmarks and console demos.
// It applies a desired config by policy instead of running it.
import type { KeyObject } from 'node:crypto';
import {
  type AckEntry,
  type ConfigRef,
  ENROL_PATH,
  type EnrolResponse,
  type EventRecordInput,
  enrolResponseSchema,
  GATEWAY_TELEMETRY_PATH,
  GATEWAY_WS_PATH,
  type GatewayMessageInput,
  generateEd25519KeyPair,
  newNonce,
  parseWire,
  type ReadingRecord,
  type ReadingsForm,
  readingsPart,
  type ServerMessage,
  type SignedConfigDocument,
  serverMessageSchema,
  signGatewayRequest,
  signSessionProof,
  type TelemetryAck,
  verifyDocument,
  verifyServerProof,
} from '@brana/protocol';
import { WebSocket } from 'ws';

export type ApplyPolicy = 'apply' | 'fail' | 'rollBack' | 'ignore';

export interface SimulatedGatewayOptions {
  baseUrl: string;
  applyPolicy?: ApplyPolicy;
  bootEpoch?: number;
  /** Send apply reports through staged and trial first (default false: straight to the result). */
  reportSteps?: boolean;
  /** How readings travel: as columns, as the gateway agent sends them (default), or as records. */
  readingsAs?: ReadingsForm;
}

export class SimulatedGateway {
  readonly key: { publicKey: string; privateKey: KeyObject };
  gatewayId: string | null = null;
  serverPublicKey: string | null = null;
  running: ConfigRef | null = null;
  applyPolicy: ApplyPolicy;
  bootEpoch: number;
  readingsAs: ReadingsForm;
  readonly received: ServerMessage[] = [];
  readonly acks = new Map<number, number>();
  closeInfo: { code: number; reason: string } | null = null;
  private ws: WebSocket | null = null;
  private seq = 0;
  private waiters: { match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  private readonly baseUrl: string;
  private readonly reportSteps: boolean;

  constructor(options: SimulatedGatewayOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, '');
    this.applyPolicy = options.applyPolicy ?? 'apply';
    this.bootEpoch = options.bootEpoch ?? 1;
    this.reportSteps = options.reportSteps ?? false;
    this.readingsAs = options.readingsAs ?? 'columns';
    this.key = generateEd25519KeyPair();
  }

  async enrol(claimToken: string): Promise<EnrolResponse> {
    const res = await fetch(this.baseUrl + ENROL_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ protocol: 1, claimToken, publicKey: this.key.publicKey, hostname: 'sim' }),
    });
    const body = (await res.json()) as unknown;
    if (!res.ok) throw new Error(`enrol refused (${res.status}): ${JSON.stringify(body)}`);
    const r = enrolResponseSchema.parse(body);
    this.gatewayId = r.gatewayId;
    this.serverPublicKey = r.serverPublicKey;
    return r;
  }

  /** Opens the session; resolves with the server's session answer (accepted or refused). */
  connect(options: { hello?: boolean } = {}): Promise<Extract<ServerMessage, { type: 'session' }>> {
    if (!this.gatewayId || !this.serverPublicKey) throw new Error('enrol first');
    const gatewayId = this.gatewayId;
    const serverKey = this.serverPublicKey;
    const clientNonce = newNonce();
    this.closeInfo = null;
    const ws = new WebSocket(this.baseUrl.replace(/^http/, 'ws') + GATEWAY_WS_PATH);
    this.ws = ws;
    const session = this.waitFor(
      (m): m is Extract<ServerMessage, { type: 'session' }> => m.type === 'session',
    );
    ws.on('message', (data) => {
      const parsed = parseWire(serverMessageSchema, data.toString());
      if (!parsed.ok) return;
      const msg = parsed.value;
      this.received.push(msg);
      if (msg.type === 'challenge') {
        this.send({
          type: 'auth',
          gatewayId,
          nonce: msg.nonce,
          signature: signSessionProof(gatewayId, msg.nonce, this.key.privateKey),
          clientNonce,
        });
      } else if (msg.type === 'session' && msg.accepted) {
        if (!verifyServerProof(gatewayId, clientNonce, msg.serverSignature, serverKey)) {
          ws.close(4001, 'server proof does not verify');
          return;
        }
        if (options.hello !== false)
          this.send({ type: 'hello', protocol: 1, running: this.running, bootEpoch: this.bootEpoch });
      } else if (msg.type === 'desired' && msg.document) {
        this.onDesired(msg.document);
      } else if (msg.type === 'ack') {
        for (const a of msg.acks) this.acks.set(a.bootEpoch, a.seq);
      }
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(msg)) return true;
        w.resolve(msg);
        return false;
      });
    });
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
    });
    ws.on('error', () => {});
    return session;
  }

  waitFor<T extends ServerMessage>(match: (m: ServerMessage) => m is T, timeoutMs?: number): Promise<T>;
  waitFor(match: (m: ServerMessage) => boolean, timeoutMs?: number): Promise<ServerMessage>;
  waitFor(match: (m: ServerMessage) => boolean, timeoutMs = 10_000): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching message within ${timeoutMs} ms`)),
        timeoutMs,
      );
      timer.unref();
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
      this.ws?.once('close', (code, reason) => {
        clearTimeout(timer);
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  send(msg: GatewayMessageInput): void {
    this.ws?.send(JSON.stringify(msg));
  }

  sendRaw(text: string): void {
    this.ws?.send(text);
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.ws?.close();
  }

  terminate(): void {
    this.ws?.terminate();
  }

  nextReadings(n: number, ts = Date.now(), channel = 'meter.energyImportKWh'): ReadingRecord[] {
    return Array.from({ length: n }, (_, i) => ({
      bootEpoch: this.bootEpoch,
      seq: ++this.seq,
      ts: ts + i,
      channel,
      value: this.seq,
      quality: 'good' as const,
      unit: 'kWh',
      kind: 'counter' as const,
    }));
  }

  nextEvent(kind: string, data: Record<string, unknown> = {}): EventRecordInput {
    return { bootEpoch: this.bootEpoch, seq: ++this.seq, ts: Date.now(), kind, severity: 'info', data };
  }

  /** Sends a batch over the WebSocket and resolves with the server's ack for it. */
  async sendTelemetry(readings: ReadingRecord[], events: EventRecordInput[] = []): Promise<AckEntry[]> {
    const batchId = newNonce().slice(0, 12);
    const ack = this.waitFor((m) => m.type === 'ack' && m.batchId === batchId);
    this.send({ type: 'telemetry', batchId, ...readingsPart(readings, this.readingsAs), events });
    const m = await ack;
    return m.type === 'ack' ? m.acks : [];
  }

  /** Sends a batch over signed HTTPS. */
  async postTelemetry(
    readings: ReadingRecord[],
    events: EventRecordInput[] = [],
  ): Promise<{ status: number; body: TelemetryAck | { code: string; message: string; path: string } }> {
    if (!this.gatewayId) throw new Error('enrol first');
    const body = JSON.stringify({ ...readingsPart(readings, this.readingsAs), events });
    const headers = signGatewayRequest(
      this.gatewayId,
      'POST',
      GATEWAY_TELEMETRY_PATH,
      body,
      this.key.privateKey,
    );
    const res = await fetch(this.baseUrl + GATEWAY_TELEMETRY_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as TelemetryAck };
  }

  private onDesired(doc: SignedConfigDocument): void {
    if (!this.serverPublicKey) return;
    if (this.running?.version === doc.version && this.running.hash === doc.hash) return;
    const v = verifyDocument(doc, this.serverPublicKey);
    const ref = { version: doc.version, hash: doc.hash };
    if (!v.ok) {
      this.send({ type: 'apply', ...ref, state: 'failed', errors: [{ path: '', message: v.message }] });
      return;
    }
    if (this.applyPolicy === 'ignore') return;
    if (this.reportSteps) {
      this.send({ type: 'apply', ...ref, state: 'staged' });
      this.send({ type: 'apply', ...ref, state: 'trial' });
    }
    if (this.applyPolicy === 'apply') {
      this.running = ref;
      this.send({ type: 'apply', ...ref, state: 'applied' });
    } else if (this.applyPolicy === 'fail') {
      this.send({
        type: 'apply',
        ...ref,
        state: 'failed',
        errors: [{ path: 'buses[0]', message: 'simulated failure' }],
      });
    } else {
      this.send({
        type: 'apply',
        ...ref,
        state: 'rolledBack',
        detail: 'trial health check failed (simulated)',
      });
    }
  }
}
