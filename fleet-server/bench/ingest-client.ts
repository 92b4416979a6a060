// Load generator for ingest.bench.ts, run as a second process: sends pre-built batches of 500
// readings over HTTP (signed) or the WebSocket, a few in flight, and reports the elapsed time.

import type { ReadingRecord } from '../src/protocol/index.ts';
import { privateKeyFromPem } from '../src/protocol/index.ts';
import { SimulatedGateway } from '../src/sim/simulated-gateway.ts';

interface Job {
  url: string;
  mode: 'http' | 'ws';
  gatewayId: string;
  serverPublicKey: string;
  privateKeyPem: string;
  publicKey: string;
  bootEpoch: number;
  batches: number;
  batchSize: number;
  inFlight: number;
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

process.once('message', async (job: Job) => {
  const gw = new SimulatedGateway({ baseUrl: job.url, bootEpoch: job.bootEpoch });
  Object.assign(gw, {
    gatewayId: job.gatewayId,
    serverPublicKey: job.serverPublicKey,
    key: { publicKey: job.publicKey, privateKey: privateKeyFromPem(job.privateKeyPem) },
  });
  const batches = buildBatches(job);
  if (job.mode === 'ws') {
    const s = await gw.connect();
    if (!s.accepted) throw new Error('session refused');
    await gw.waitFor((m) => m.type === 'ack');
  }
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      if (job.mode === 'ws') await gw.sendTelemetry(batch);
      else {
        const r = await gw.postTelemetry(batch);
        if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${JSON.stringify(r.body)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: job.inFlight }, worker));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  gw.close();
  process.send?.({ seconds, cpuS: (cpu.user + cpu.system) / 1e6 });
  process.disconnect();
});
