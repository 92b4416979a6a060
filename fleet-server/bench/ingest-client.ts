// Load generator for ingest.bench.ts, run as a second process: sends batches of 500 readings over
// HTTP (signed) or the WebSocket, a few in flight, and reports the elapsed time.
//
// Every request is prepared before the clock starts (JSON text, and for HTTP the signature
// headers, well inside the server's 300 s clock-skew window), and HTTP goes through node:http with
// keep-alive rather than fetch: the figure is meant to measure the server, and in the field each
// gateway spends its own CPU on this, not the two cores the server shares here with its load.
import { Agent, request } from 'node:http';
import type { ReadingRecord } from '@brana/protocol';
import {
  GATEWAY_TELEMETRY_PATH,
  privateKeyFromPem,
  type ReadingsForm,
  readingsPart,
  signGatewayRequest,
} from '@brana/protocol';
import { SimulatedGateway } from '../test/simulated-gateway.ts';

interface Identity {
  gatewayId: string;
  serverPublicKey: string;
  privateKeyPem: string;
  publicKey: string;
}

interface Job {
  url: string;
  mode: 'http' | 'ws';
  /** The gateways that send; the batches are shared out among them. */
  gateways: Identity[];
  bootEpoch: number;
  /** Batches per gateway. */
  batches: number;
  batchSize: number;
  inFlight: number;
  /** The form readings travel in: columns as the gateway agent sends them, or records. */
  readingsAs: ReadingsForm;
}

function buildBatches(job: Job): ReadingRecord[][] {
  const t0 = Date.UTC(2026, 0, 1);
  const out: ReadingRecord[][] = [];
  let seq = 0;
  for (let b = 0; b < job.batches; b++) {
    const batch: ReadingRecord[] = [];
    for (let i = 0; i < job.batchSize; i++) {
      seq++;
      // 8 meters × 4 channels, one reading of each every 10 s
      batch.push({
        bootEpoch: job.bootEpoch,
        seq,
        ts: t0 + Math.floor(seq / 32) * 10_000,
        channel: `meter${seq % 8}.${['energyImportKWh', 'powerW', 'voltageV', 'currentA'][(seq >> 3) % 4]}`,
        value: seq * 0.01,
        quality: 'good',
      });
    }
    out.push(batch);
  }
  return out;
}

function post(
  agent: Agent,
  url: URL,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: GATEWAY_TELEMETRY_PATH,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** One gateway's batches, prepared; run() sends them with job.inFlight unacked at most. */
async function prepare(job: Job, id: Identity): Promise<{ run: () => Promise<void>; close: () => void }> {
  const gw = new SimulatedGateway({ baseUrl: job.url, bootEpoch: job.bootEpoch });
  const privateKey = privateKeyFromPem(id.privateKeyPem);
  Object.assign(gw, {
    gatewayId: id.gatewayId,
    serverPublicKey: id.serverPublicKey,
    key: { publicKey: id.publicKey, privateKey },
  });
  const batches = buildBatches(job);
  const url = new URL(job.url);
  const agent = new Agent({ keepAlive: true, maxSockets: job.inFlight });
  let send: (i: number) => Promise<void>;
  if (job.mode === 'ws') {
    const s = await gw.connect();
    if (!s.accepted) throw new Error('session refused');
    await gw.waitFor((m) => m.type === 'ack');
    const texts = batches.map((readings, i) =>
      JSON.stringify({
        type: 'telemetry',
        batchId: `b${i}`,
        ...readingsPart(readings, job.readingsAs),
        events: [],
      }),
    );
    send = async (i) => {
      const ack = gw.waitFor((m) => m.type === 'ack' && m.batchId === `b${i}`);
      gw.sendRaw(texts[i]!);
      await ack;
    };
  } else {
    const requests = batches.map((readings) => {
      const text = JSON.stringify({ ...readingsPart(readings, job.readingsAs), events: [] });
      const headers = signGatewayRequest(id.gatewayId, 'POST', GATEWAY_TELEMETRY_PATH, text, privateKey);
      return { body: Buffer.from(text), headers };
    });
    send = async (i) => {
      const { body, headers } = requests[i]!;
      const r = await post(agent, url, body, headers);
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text}`);
    };
  }
  let next = 0;
  const worker = async () => {
    while (next < batches.length) await send(next++);
  };
  return {
    run: async () => {
      await Promise.all(Array.from({ length: job.inFlight }, worker));
    },
    close: () => {
      gw.close();
      agent.destroy();
    },
  };
}

process.once('message', async (job: Job) => {
  const senders = [];
  for (const id of job.gateways) senders.push(await prepare(job, id));
  // The server measures its own CPU from here on (its threads' start-up is not the figure).
  await new Promise<void>((resolve) => process.send?.({ starting: true }, () => resolve()));
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await Promise.all(senders.map((s) => s.run()));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  for (const s of senders) s.close();
  process.send?.({ seconds, cpuS: (cpu.user + cpu.system) / 1e6 });
  process.disconnect();
});
