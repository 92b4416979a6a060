import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLOSE_CODES } from '@brana/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer } from './helpers.ts';
import { SimulatedGateway } from './simulated-gateway.ts';

const dir = mkdtempSync(join(tmpdir(), 'brana-fleet-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a server restart', () => {
  it('keeps its key, its rollouts and the telemetry watermarks; gateways reconcile on reconnect', async () => {
    let srv = await startTestServer(undefined, { dir });
    const gws = [new SimulatedGateway({ baseUrl: srv.url }), new SimulatedGateway({ baseUrl: srv.url })];
    // close() is idempotent: the finally block closes whichever server is up when an assertion fails.
    try {
      const op = await srv.tokenFor('fleetOperator');
      const group = await srv.call('POST', '/api/v1/groups', { token: op, body: { name: 'restart' } });
      for (const gw of gws) await gw.enrol(srv.createClaimToken({ groupId: group.body.id }).token);
      await gws[0]!.connect();
      await gws[0]!.waitFor((m) => m.type === 'ack');
      expect(await gws[0]!.sendTelemetry(gws[0]!.nextReadings(7))).toStrictEqual([{ bootEpoch: 1, seq: 7 }]);
      const cfg = await srv.call('POST', '/api/v1/configs', {
        token: op,
        body: { config: { name: 'restart', alarms: [{ name: 'door', line: 'GPIO5' }] } },
      });
      const key = srv.fleet.serverKey.publicKey;
      gws[0]!.applyPolicy = 'ignore'; // it receives the document but the server goes down before it reports
      const r = await srv.call('POST', '/api/v1/rollouts', {
        token: op,
        body: { configVersion: cfg.body.version, target: { group: group.body.id }, stages: [100] },
      });
      await eventually(() =>
        expect(gws[0]!.received.some((m) => m.type === 'desired' && m.document !== null)).toBe(true),
      );
      const closed = gws[0]!.waitClosed();
      await srv.close();
      await closed;

      srv = await startTestServer(undefined, { dir });
      expect(srv.fleet.serverKey.publicKey).toBe(key);
      for (const gw of gws) {
        Object.assign(gw, { baseUrl: srv.url });
        gw.applyPolicy = 'apply';
        gw.acks.clear();
        expect((await gw.connect()).accepted).toBe(true);
      }
      // the watermark survived: the hello answer acks what was stored before the restart
      await eventually(() => expect(gws[0]!.acks.get(1)).toBe(7));
      const token = await srv.tokenFor('viewer');
      await eventually(async () => {
        const s = await srv.call('GET', `/api/v1/rollouts/${r.body.id}`, { token });
        expect(s.body).toMatchObject({ state: 'completed', counts: { applied: 2 } });
      });
    } finally {
      for (const gw of gws) gw.close();
      await srv.close();
    }
  });
});

describe('session rules', () => {
  it('closes a connection that speaks before answering the challenge, and replaces an older session', async () => {
    const srv = await startTestServer(undefined);
    const gw = new SimulatedGateway({ baseUrl: srv.url });
    const twin = new SimulatedGateway({ baseUrl: srv.url });
    try {
      await gw.enrol(srv.createClaimToken().token);
      const { WebSocket } = await import('ws');
      const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/api/v1/gateway/ws`);
      const code = await new Promise<number>((resolve) => {
        ws.once('message', () => ws.send(JSON.stringify({ type: 'ping', t: 1 })));
        ws.once('close', (c) => resolve(c));
      });
      expect(code).toBe(CLOSE_CODES.protocolError);

      expect((await gw.connect()).accepted).toBe(true);
      const first = gw.waitClosed();
      Object.assign(twin, { gatewayId: gw.gatewayId, serverPublicKey: gw.serverPublicKey, key: gw.key });
      expect((await twin.connect()).accepted).toBe(true);
      expect((await first).code).toBe(CLOSE_CODES.replaced);
      expect(srv.fleet.sessions.isOnline(gw.gatewayId!)).toBe(true);
    } finally {
      twin.close();
      gw.close();
      await srv.stop();
    }
  });
});
