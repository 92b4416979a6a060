// A small fleet server for the gateway's tests, built on the real wire-protocol schemas and
// signing helpers of @brana/protocol: enrolment over HTTP, the WebSocket session with signed
// challenge, reconcile, exactly-once telemetry with contiguous acks. It can be cut off (every
// connection dropped, new ones refused), made to answer garbage, and made to refuse records as
// the fleet server does (`bad-record`, CONTRACTS.md "Refused telemetry records").
import type { KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ApplyMessage,
  ENROL_PATH,
  type EventRecord,
  enrolRequestSchema,
  GATEWAY_WS_PATH,
  type GatewayMessage,
  gatewayMessageSchema,
  generateEd25519KeyPair,
  newNonce,
  PROTOCOL_VERSION,
  parseWire,
  type ReadingRecord,
  readingsFromColumns,
  type ServerMessage,
  type SignedConfigDocument,
  signDocument,
  signServerProof,
  verifySessionProof,
} from '@brana/protocol';
import { WebSocket, WebSocketServer } from 'ws';

export interface FakeFleet {
  url: string;
  serverKey: { publicKey: string; privateKey: KeyObject };
  claimTokens: Set<string>;
  /** Readings stored exactly once, by `${bootEpoch}:${seq}`. */
  readings: Map<string, ReadingRecord & { receivedAtMs: number }>;
  /** The form each telemetry message carried its readings in. */
  readingsAs: ('columns' | 'records')[];
  events: Map<string, EventRecord>;
  duplicates: number;
  applyReports: ApplyMessage[];
  hellos: GatewayMessage[];
  sessions: number;
  desired: SignedConfigDocument | null;
  setDesired(config: unknown, version: number): SignedConfigDocument;
  pushDesired(doc: SignedConfigDocument | null): void;
  /** Drop every connection and refuse new ones until resume(). */
  cut(): void;
  resume(): void;
  /** garbage: not the protocol at all; before-columns: refuses readings as columns, as a fleet server from before them did. */
  mode: 'normal' | 'garbage' | 'before-columns';
  /** Answer this many telemetry messages with an internal error and no ack (a store that failed). */
  failTelemetry: number;
  /**
   * Refuses a record (returns why) as the fleet server refuses one over its limits: the whole
   * message is answered `{ type: 'error', code: 'bad-record', batchId, index, message, path }` and
   * nothing of it is stored.
   */
  refuseRecord: ((r: ReadingRecord | EventRecord) => string | undefined) | undefined;
  /** bad-record answers sent. */
  refusals: number;
  close(): Promise<void>;
}

export async function startFakeFleet(): Promise<FakeFleet> {
  const serverKey = generateEd25519KeyPair();
  const gateways = new Map<string, string>(); // id → public key
  const watermarks = new Map<number, number>();
  const stored = new Map<number, Set<number>>();
  let cutOff = false;
  const sockets = new Set<WebSocket>();

  const http: Server = createServer((req, res) => {
    if (cutOff) {
      req.socket.destroy();
      return;
    }
    if (req.method === 'POST' && req.url === ENROL_PATH) {
      readBody(req).then((body) => {
        const parsed = parseWire(enrolRequestSchema, body);
        if (!parsed.ok || !fleet.claimTokens.delete(parsed.value.claimToken)) {
          res.writeHead(parsed.ok ? 403 : 400, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              code: 'claim-invalid',
              message: 'unknown or used claim token',
              path: 'claimToken',
            }),
          );
          return;
        }
        const gatewayId = `gw_${newNonce()
          .slice(0, 16)
          .replace(/[^A-Za-z0-9_-]/g, 'x')}`;
        gateways.set(gatewayId, parsed.value.publicKey);
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            gatewayId,
            serverPublicKey: serverKey.publicKey,
            siteId: null,
            groupIds: [],
            wsPath: GATEWAY_WS_PATH,
          }),
        );
      });
      return;
    }
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req, socket, head) => {
    if (cutOff || req.url !== GATEWAY_WS_PATH) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  });

  function send(ws: WebSocket, msg: ServerMessage) {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  function ingest(bootEpoch: number, seqs: number[]) {
    let set = stored.get(bootEpoch);
    if (!set) {
      set = new Set();
      stored.set(bootEpoch, set);
    }
    for (const s of seqs) set.add(s);
    let w = watermarks.get(bootEpoch) ?? 0;
    while (set.has(w + 1)) {
      set.delete(w + 1);
      w++;
    }
    watermarks.set(bootEpoch, w);
  }

  function isStored(bootEpoch: number, seq: number) {
    return seq <= (watermarks.get(bootEpoch) ?? 0) || (stored.get(bootEpoch)?.has(seq) ?? false);
  }

  function onConnection(ws: WebSocket) {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    if (fleet.mode === 'garbage') {
      ws.send('<html>502 Bad Gateway</html>');
      ws.send(JSON.stringify({ type: 'challenge', nonce: 'short', protocol: 7 }));
      return;
    }
    const nonce = newNonce();
    let gatewayId: string | undefined;
    send(ws, { type: 'challenge', nonce, protocol: PROTOCOL_VERSION, serverTime: Date.now() });
    ws.on('message', (data) => {
      if (fleet.mode === 'before-columns' && 'columns' in (JSON.parse(data.toString()) as object)) {
        // What that server's strict schema answered for the key it did not know.
        send(ws, {
          type: 'error',
          code: 'bad-message',
          message: 'Unrecognized key: "columns"',
          path: '(root)',
        });
        return;
      }
      const parsed = parseWire(gatewayMessageSchema, data.toString());
      if (!parsed.ok) {
        send(ws, {
          type: 'error',
          code: 'bad-message',
          message: parsed.issues[0]!.message,
          path: parsed.issues[0]!.path,
        });
        return;
      }
      const msg = parsed.value;
      if (!gatewayId) {
        if (msg.type !== 'auth') return ws.close(4008);
        const key = gateways.get(msg.gatewayId);
        if (!key || msg.nonce !== nonce || !verifySessionProof(msg.gatewayId, nonce, msg.signature, key)) {
          send(ws, { type: 'session', accepted: false, reason: 'bad-signature', message: 'does not verify' });
          return ws.close(4001);
        }
        gatewayId = msg.gatewayId;
        fleet.sessions++;
        send(ws, {
          type: 'session',
          accepted: true,
          sessionId: 's',
          serverSignature: signServerProof(gatewayId, msg.clientNonce, serverKey.privateKey),
          heartbeatS: 30,
        });
        return;
      }
      if (msg.type === 'hello') {
        fleet.hellos.push(msg);
        send(ws, { type: 'desired', document: fleet.desired });
        send(ws, { type: 'ack', acks: [...watermarks].map(([bootEpoch, seq]) => ({ bootEpoch, seq })) });
      } else if (msg.type === 'apply') {
        fleet.applyReports.push(msg);
      } else if (msg.type === 'telemetry' && fleet.failTelemetry > 0) {
        fleet.failTelemetry--;
        send(ws, {
          type: 'error',
          code: 'internal',
          message: 'could not store; resend it later',
          path: '(root)',
        });
      } else if (msg.type === 'telemetry') {
        const now = Date.now();
        const readings = msg.columns ? readingsFromColumns(msg.columns) : msg.readings;
        const all = [...readings, ...msg.events];
        for (let index = 0; index < all.length && fleet.refuseRecord; index++) {
          const why = fleet.refuseRecord(all[index]!);
          if (why === undefined) continue;
          fleet.refusals++;
          const at = index < readings.length ? `readings[${index}]` : `events[${index - readings.length}]`;
          send(ws, {
            type: 'error',
            code: 'bad-record',
            ...(msg.batchId === undefined ? {} : { batchId: msg.batchId }),
            index,
            message: why,
            path: at,
          });
          return;
        }
        fleet.readingsAs.push(msg.columns ? 'columns' : 'records');
        for (const r of readings) {
          if (isStored(r.bootEpoch, r.seq)) fleet.duplicates++;
          else fleet.readings.set(`${r.bootEpoch}:${r.seq}`, { ...r, receivedAtMs: now });
          ingest(r.bootEpoch, [r.seq]);
        }
        for (const e of msg.events) {
          if (isStored(e.bootEpoch, e.seq)) fleet.duplicates++;
          else fleet.events.set(`${e.bootEpoch}:${e.seq}`, e);
          ingest(e.bootEpoch, [e.seq]);
        }
        const epochs = new Set([...readings, ...msg.events].map((r) => r.bootEpoch));
        send(ws, {
          type: 'ack',
          ...(msg.batchId === undefined ? {} : { batchId: msg.batchId }),
          acks: [...epochs].map((bootEpoch) => ({ bootEpoch, seq: watermarks.get(bootEpoch) ?? 0 })),
        });
      } else if (msg.type === 'ping') {
        send(ws, { type: 'pong', t: msg.t });
      }
    });
  }

  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const port = (http.address() as AddressInfo).port;
  const fleet: FakeFleet = {
    url: `http://127.0.0.1:${port}`,
    serverKey,
    claimTokens: new Set(['claim-token-0001']),
    readings: new Map(),
    readingsAs: [],
    failTelemetry: 0,
    refuseRecord: undefined,
    refusals: 0,
    events: new Map(),
    duplicates: 0,
    applyReports: [],
    hellos: [],
    sessions: 0,
    desired: null,
    mode: 'normal',
    setDesired(config, version) {
      fleet.desired = signDocument({ version, config }, serverKey.privateKey);
      return fleet.desired;
    },
    pushDesired(doc) {
      for (const ws of sockets) send(ws, { type: 'desired', document: doc });
    },
    cut() {
      cutOff = true;
      for (const ws of sockets) ws.terminate();
    },
    resume() {
      cutOff = false;
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
  return fleet;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
