import { Agent, request } from 'node:http';
import {
  GATEWAY_TELEMETRY_PATH,
  type ReadingRecord,
  readingsPart,
  signGatewayRequest,
} from '@brana/protocol';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventually, refuseAllConfigs, startTestServer, type TestServer } from './helpers.ts';
import { SimulatedGateway } from './simulated-gateway.ts';

let srv: TestServer;
let viewer: string;
beforeAll(async () => {
  srv = await startTestServer(refuseAllConfigs);
  viewer = await srv.tokenFor('viewer');
});
afterAll(() => srv.stop());

async function connectedGateway(siteId?: string) {
  const gw = new SimulatedGateway({ baseUrl: srv.url, bootEpoch: 3 });
  await gw.enrol(srv.createClaimToken(siteId ? { siteId } : {}).token);
  expect((await gw.connect()).accepted).toBe(true);
  await gw.waitFor((m) => m.type === 'ack'); // the watermarks after hello
  return gw;
}

describe('telemetry over the WebSocket', () => {
  it('stores duplicates once and acks only the contiguous prefix across a gap', async () => {
    const gw = await connectedGateway();
    const batch = gw.nextReadings(10, Date.UTC(2026, 10, 1));
    expect(await gw.sendTelemetry(batch.slice(0, 4))).toStrictEqual([{ bootEpoch: 3, seq: 4 }]);
    // seq 5 and 6 are "lost"; 7..10 arrive, then all of them again
    expect(await gw.sendTelemetry(batch.slice(6))).toStrictEqual([{ bootEpoch: 3, seq: 4 }]);
    expect(await gw.sendTelemetry(batch)).toStrictEqual([{ bootEpoch: 3, seq: 10 }]);
    expect(await gw.sendTelemetry(batch)).toStrictEqual([{ bootEpoch: 3, seq: 10 }]);
    const rows = srv.fleet.database.sqlite
      .prepare(
        'SELECT seq FROM readings r JOIN gateways g ON g.num = r.gateway_num WHERE g.id = ? ORDER BY seq',
      )
      .pluck()
      .all(gw.gatewayId);
    expect(rows).toStrictEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    gw.close();
  });

  it('after a reconnect the hello answer carries the watermarks held, per boot epoch', async () => {
    const gw = await connectedGateway();
    await gw.sendTelemetry(gw.nextReadings(5));
    gw.terminate(); // outage
    await eventually(() => expect(srv.fleet.sessions.isOnline(gw.gatewayId!)).toBe(false));
    gw.bootEpoch = 4; // the gateway rebooted meanwhile
    gw.acks.clear();
    expect((await gw.connect()).accepted).toBe(true);
    const ack = await gw.waitFor((m) => m.type === 'ack');
    expect(ack).toMatchObject({ acks: [{ bootEpoch: 3, seq: 5 }] });
    gw.close();
  });

  it('answers a bad record with an error naming its path and keeps the session', async () => {
    const gw = await connectedGateway();
    const err = gw.waitFor((m) => m.type === 'error');
    gw.send({ type: 'telemetry', readings: [{ ...gw.nextReadings(1)[0]!, quality: 'excellent' as never }] });
    expect(await err).toMatchObject({ code: 'bad-message', path: 'readings[0].quality' });
    const err2 = gw.waitFor((m) => m.type === 'error');
    gw.sendRaw('{not json');
    expect(await err2).toMatchObject({ code: 'bad-message', path: '(root)' });
    expect(gw.open).toBe(true);
    expect(await gw.sendTelemetry(gw.nextReadings(1))).toHaveLength(1);
    gw.close();
  });

  it('answers a batch the store could not commit with an internal error and no ack; the resend is acked', async () => {
    const gw = await connectedGateway();
    const failing = vi
      .spyOn(srv.fleet.telemetry, 'ingest')
      .mockRejectedValueOnce(new Error('disk I/O error'));
    try {
      const batch = gw.nextReadings(3);
      const err = gw.waitFor((m) => m.type === 'error');
      gw.send({ type: 'telemetry', batchId: 'lost', readings: batch });
      expect(await err).toMatchObject({ code: 'internal', path: '(root)' });
      expect(gw.received.some((m) => m.type === 'ack' && m.batchId === 'lost')).toBe(false);
      expect(await gw.sendTelemetry(batch)).toStrictEqual([{ bootEpoch: 3, seq: 3 }]);
    } finally {
      failing.mockRestore();
      gw.close();
    }
  });
});

describe('telemetry over signed HTTP', () => {
  it('stores exactly once with the same acks as the WebSocket', async () => {
    const gw = new SimulatedGateway({ baseUrl: srv.url, bootEpoch: 9 });
    await gw.enrol(srv.createClaimToken().token);
    const rs = gw.nextReadings(6);
    const first = await gw.postTelemetry(rs.slice(0, 3), [gw.nextEvent('alarm.raised', { line: 'GPIO5' })]);
    expect(first.status).toBe(200);
    expect(first.body).toStrictEqual({ acks: [{ bootEpoch: 9, seq: 3 }], stored: 4, duplicates: 0 });
    const again = await gw.postTelemetry(rs, []);
    expect(again.body).toStrictEqual({ acks: [{ bootEpoch: 9, seq: 7 }], stored: 3, duplicates: 3 });
  });

  it('refuses a bad signature and a body that fails the schema', async () => {
    const gw = new SimulatedGateway({ baseUrl: srv.url });
    await gw.enrol(srv.createClaimToken().token);
    const body = JSON.stringify({ readings: [] });
    const res = await fetch(`${srv.url}/api/v1/gateway/telemetry`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-brana-gateway': gw.gatewayId!,
        'x-brana-timestamp': String(Date.now()),
        'x-brana-signature': 'A'.repeat(86),
      },
      body,
    });
    expect(res.status).toBe(401);
    // The bad entry is named in whichever form the readings came.
    const bad = { ...gw.nextReadings(1)[0]!, seq: -1 };
    const asColumns = await gw.postTelemetry([bad]);
    expect(asColumns.status).toBe(400);
    expect(asColumns.body).toMatchObject({ code: 'invalid-input', path: 'body.columns.seq[0]' });
    gw.readingsAs = 'records';
    const asRecords = await gw.postTelemetry([bad]);
    expect(asRecords.status).toBe(400);
    expect(asRecords.body).toMatchObject({ code: 'invalid-input', path: 'body.readings[0].seq' });
  });

  it('stores readings sent as records and as columns alike, and refuses a batch with both', async () => {
    const stored = (id: string) =>
      srv.fleet.database.sqlite
        .prepare(
          `SELECT r.seq, c.key, c.unit, c.kind, r.ts, r.value, r.quality FROM readings r
           JOIN channels c ON c.id = r.channel_id JOIN gateways g ON g.num = r.gateway_num
           WHERE g.id = ? ORDER BY r.seq`,
        )
        .raw()
        .all(id);
    const [a, b] = [
      new SimulatedGateway({ baseUrl: srv.url, readingsAs: 'records' }),
      new SimulatedGateway({ baseUrl: srv.url }),
    ];
    for (const gw of [a, b]) await gw.enrol(srv.createClaimToken().token);
    // Three channels; one without metadata, one whose unit changes within the batch.
    const rs = a.nextReadings(12, Date.UTC(2026, 10, 1)).map((r, i): ReadingRecord => {
      const { unit: _u, kind: _k, ...bare } = r;
      if (i % 3 === 0) return { ...bare, channel: 'pump.running' };
      if (i % 3 === 1)
        return { ...r, channel: 'hall.energyImportKWh', quality: i === 4 ? 'uncertain' : 'good' };
      return {
        ...r,
        channel: 'hall.powerW',
        unit: i > 6 ? 'kW' : 'W',
        kind: 'gauge',
        value: i === 5 ? null : r.value,
      };
    });
    for (const gw of [a, b]) {
      const r = await gw.postTelemetry(rs);
      expect(r.body).toStrictEqual({ acks: [{ bootEpoch: 1, seq: 12 }], stored: 12, duplicates: 0 });
    }
    expect(stored(b.gatewayId!)).toStrictEqual(stored(a.gatewayId!));
    expect(stored(a.gatewayId!)).toHaveLength(12);

    const body = JSON.stringify({ readings: rs.slice(0, 1), ...readingsPart(rs.slice(1, 2)), events: [] });
    const headers = signGatewayRequest(b.gatewayId!, 'POST', GATEWAY_TELEMETRY_PATH, body, b.key.privateKey);
    const both = await fetch(`${srv.url}${GATEWAY_TELEMETRY_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({
      path: 'body.columns',
      message: expect.stringContaining('not both'),
    });
  });
});

describe('telemetry body limit', () => {
  it('answers 413 over the limit, with a content-length and chunked, and stores a batch under it', async () => {
    const small = await startTestServer(refuseAllConfigs, { app: { maxTelemetryBodyBytes: 2000 } });
    try {
      const gw = new SimulatedGateway({ baseUrl: small.url, bootEpoch: 1 });
      await gw.enrol(small.createClaimToken().token);
      expect((await gw.postTelemetry(gw.nextReadings(3))).status).toBe(200);
      const body = JSON.stringify({ readings: gw.nextReadings(30), events: [] });
      expect(body.length).toBeGreaterThan(2000);
      const headers = {
        'content-type': 'application/json',
        ...signGatewayRequest(gw.gatewayId!, 'POST', GATEWAY_TELEMETRY_PATH, body, gw.key.privateKey),
      };
      const sized = await fetch(small.url + GATEWAY_TELEMETRY_PATH, { method: 'POST', headers, body });
      expect(sized.status).toBe(413);
      expect(await sized.json()).toMatchObject({ code: 'payload-too-large' });
      const bytes = new TextEncoder().encode(body);
      const chunked = await fetch(small.url + GATEWAY_TELEMETRY_PATH, {
        method: 'POST',
        headers,
        body: new ReadableStream({
          start(controller) {
            for (let i = 0; i < bytes.length; i += 500) controller.enqueue(bytes.subarray(i, i + 500));
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
      expect(await chunked.json()).toMatchObject({ code: 'payload-too-large' });
      // The connection that carried an oversized chunked body serves the next request at once.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const post = (payload: string, chunkedBody: boolean) =>
        new Promise<number>((resolve, reject) => {
          const h = {
            'content-type': 'application/json',
            ...signGatewayRequest(gw.gatewayId!, 'POST', GATEWAY_TELEMETRY_PATH, payload, gw.key.privateKey),
          };
          const req = request(
            small.url + GATEWAY_TELEMETRY_PATH,
            { method: 'POST', agent, headers: h },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', reject);
          if (chunkedBody) for (let i = 0; i < payload.length; i += 500) req.write(payload.slice(i, i + 500));
          req.end(chunkedBody ? undefined : payload);
        });
      expect(await post(body, true)).toBe(413);
      const next = JSON.stringify({ readings: gw.nextReadings(2), events: [] });
      const started = Date.now();
      expect(await post(next, false)).toBe(200);
      expect(Date.now() - started).toBeLessThan(5000);
      agent.destroy();
      const stored = small.fleet.database.sqlite.prepare('SELECT count(*) FROM readings').pluck().get();
      expect(stored).toBe(5);
    } finally {
      await small.stop();
    }
  });
});

describe('queries over the API', () => {
  it('returns energy per site, a downsampled series and filtered events', async () => {
    const op = await srv.tokenFor('fleetOperator');
    const site = await srv.call('POST', '/api/v1/sites', {
      token: op,
      body: { name: 'Domov seniorů', kind: 'building' },
    });
    const gw = await connectedGateway(site.body.id);
    const t0 = Date.UTC(2026, 10, 2, 0, 0);
    // 2 hours of a kWh counter, one reading a minute, +0.5 kWh each
    const rs = gw.nextReadings(120, t0).map((r, i) => ({ ...r, ts: t0 + i * 60_000, value: 100 + i * 0.5 }));
    await gw.sendTelemetry(rs, [{ ...gw.nextEvent('preemption.asserted', { approach: 1 }), ts: t0 + 1000 }]);
    const energy = await srv.call(
      'GET',
      `/api/v1/energy?siteId=${site.body.id}&interval=1h&from=${t0}&to=${t0 + 7200_000}`,
      { token: viewer },
    );
    expect(energy.status).toBe(200);
    expect(energy.body.map((e: { energyKWh: number }) => e.energyKWh)).toStrictEqual([29.5, 30]);
    const series = await srv.call(
      'GET',
      `/api/v1/gateways/${gw.gatewayId}/series?channel=meter.energyImportKWh&from=${new Date(t0).toISOString()}&to=${t0 + 7200_000}&maxPoints=8`,
      { token: viewer },
    );
    expect(series.body.source).toBe('rollup-900');
    expect(series.body.points).toHaveLength(8);
    const events = await srv.call(
      'GET',
      `/api/v1/events?siteId=${site.body.id}&kind=preemption&from=${t0}&to=${t0 + 7200_000}`,
      { token: viewer },
    );
    expect(events.body).toHaveLength(1);
    expect(events.body[0]).toMatchObject({
      kind: 'preemption.asserted',
      gatewayId: gw.gatewayId,
      data: { approach: 1 },
    });
    gw.close();
  });
});
