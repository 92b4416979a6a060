// Second process of fanout.bench.ts: N simulated gateways, each with its own Ed25519 key and its own
// WebSocket session (signed challenge, hello), applying whatever desired config arrives.
import { SimulatedGateway } from '../test/simulated-gateway.ts';

type FromParent =
  | { kind: 'start'; url: string; count: number }
  | { kind: 'ids'; ids: string[]; serverPublicKey: string }
  | { kind: 'stop' };

let gws: SimulatedGateway[] = [];

process.on('message', async (m: FromParent) => {
  if (m.kind === 'start') {
    gws = Array.from({ length: m.count }, () => new SimulatedGateway({ baseUrl: m.url }));
    process.send?.({ kind: 'keys', publicKeys: gws.map((g) => g.key.publicKey) });
  } else if (m.kind === 'ids') {
    gws.forEach((g, i) => {
      g.gatewayId = m.ids[i]!;
      g.serverPublicKey = m.serverPublicKey;
    });
    const start = performance.now();
    // A bounded number of handshakes at once, as a real fleet reconnecting after a server restart.
    let next = 0;
    let refused = 0;
    const worker = async () => {
      while (next < gws.length) {
        const g = gws[next++]!;
        const s = await g.connect();
        if (!s.accepted) refused++;
      }
    };
    await Promise.all(Array.from({ length: 100 }, worker));
    process.send?.({ kind: 'connected', seconds: (performance.now() - start) / 1000, refused });
  } else if (m.kind === 'stop') {
    const applied = gws.filter((g) => g.running !== null).length;
    for (const g of gws) g.terminate();
    process.send?.({ kind: 'stopped', applied, rssMB: Math.round(process.memoryUsage().rss / 1048576) });
    process.disconnect();
  }
});
