import { CLOSE_CODES, generateEd25519KeyPair, newNonce, signSessionProof } from '@brana/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refuseAllConfigs, startTestServer, type TestServer } from './helpers.ts';
import { SimulatedGateway } from './simulated-gateway.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer(refuseAllConfigs);
});
afterAll(() => srv.stop());

describe('enrolment', () => {
  it('trades a claim token and a public key for a gateway id, once', async () => {
    const op = await srv.tokenFor('fleetOperator');
    const site = await srv.call('POST', '/api/v1/sites', {
      token: op,
      body: { name: 'Gymnázium Tábor', kind: 'building' },
    });
    const group = await srv.call('POST', '/api/v1/groups', { token: op, body: { name: 'schools' } });
    expect(site.status).toBe(201);
    const claim = await srv.call('POST', '/api/v1/claim-tokens', {
      token: op,
      body: { gatewayName: 'gym-1', siteId: site.body.id, groupId: group.body.id, tags: ['pilot'] },
    });
    expect(claim.status).toBe(201);
    const gw = new SimulatedGateway({ baseUrl: srv.url });
    const r = await gw.enrol(claim.body.token);
    expect(r.serverPublicKey).toBe(srv.fleet.serverKey.publicKey);
    expect(r.siteId).toBe(site.body.id);
    expect(r.groupIds).toStrictEqual([group.body.id]);
    const view = await srv.call('GET', `/api/v1/gateways/${r.gatewayId}`, { token: op });
    expect(view.body).toMatchObject({ name: 'gym-1', status: 'active', tags: ['pilot'], online: false });

    // single use
    const again = new SimulatedGateway({ baseUrl: srv.url });
    await expect(again.enrol(claim.body.token)).rejects.toThrow(/409.*claim-used/);
    // unknown and expired tokens
    await expect(again.enrol('brc_nothing-like-a-real-token')).rejects.toThrow(/403.*claim-unknown/);
    const expired = srv.createClaimToken({ expiresInS: -1 });
    await expect(again.enrol(expired.token)).rejects.toThrow(/403.*claim-expired/);
  });

  it('pre-registers from CSV, naming the line of a bad row', async () => {
    const tech = await srv.tokenFor('technician');
    const op = await srv.tokenFor('fleetOperator');
    await srv.call('POST', '/api/v1/sites', {
      token: op,
      body: { name: 'Křižovatka 12', kind: 'intersection' },
    });
    const ok = await srv.call('POST', '/api/v1/claim-tokens/import', {
      token: tech,
      raw: 'name,site,tags\nsignal-12a,Křižovatka 12,traffic;pilot\nsignal-12b,Křižovatka 12,\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toHaveLength(2);
    expect(ok.body[0]).toMatchObject({ gatewayName: 'signal-12a', tags: ['traffic', 'pilot'] });
    const bad = await srv.call('POST', '/api/v1/claim-tokens/import', {
      token: tech,
      raw: 'name,site\na,Křižovatka 12\nb,Nowhere\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'csv-invalid', path: 'line 3.site' });
    expect(bad.body.message).toContain('no site "Nowhere"');
    const count = (await srv.call('GET', '/api/v1/claim-tokens', { token: tech })).body.length;
    expect(count).toBeGreaterThanOrEqual(2); // the bad file stored nothing: all rows or none
    const names = (await srv.call('GET', '/api/v1/claim-tokens', { token: tech })).body.map(
      (t: { gatewayName: string }) => t.gatewayName,
    );
    expect(names).not.toContain('a');
  });
});

describe('revoking credentials', () => {
  it('revokes a claim token and an API token with an audit row each, and 404s an unknown id', async () => {
    const tech = await srv.tokenFor('technician');
    const admin = await srv.tokenFor('admin');
    const claim = srv.createClaimToken();
    expect((await srv.call('DELETE', `/api/v1/claim-tokens/${claim.id}`, { token: tech })).status).toBe(200);
    const gw = new SimulatedGateway({ baseUrl: srv.url });
    await expect(gw.enrol(claim.token)).rejects.toThrow(/refused \(4\d\d\)/);
    const api = await srv.call('POST', '/api/v1/tokens', { token: tech, body: { name: 'laptop' } });
    expect((await srv.call('DELETE', `/api/v1/tokens/${api.body.id}`, { token: tech })).status).toBe(200);
    for (const [entityType, id, action] of [
      ['claimToken', claim.id, 'claim.revoke'],
      ['apiToken', api.body.id, 'token.revoke'],
    ]) {
      const audit = await srv.call('GET', `/api/v1/audit?entityType=${entityType}&entityId=${id}`, {
        token: admin,
      });
      expect(audit.body[0]).toMatchObject({
        action,
        before: { revokedAt: null },
        after: { revokedAt: expect.any(Number) },
      });
    }
    const missing = await srv.call('DELETE', '/api/v1/claim-tokens/clm_nothing', { token: tech });
    expect(missing.status).toBe(404);
    expect(missing.body.message).toContain('claim token');
  });
});

describe('session', () => {
  it('accepts a signed challenge and proves the server key back', async () => {
    const gw = new SimulatedGateway({ baseUrl: srv.url });
    await gw.enrol(srv.createClaimToken().token);
    const s = await gw.connect();
    expect(s.accepted).toBe(true); // the simulator also verified the server's proof
    await gw.waitFor((m) => m.type === 'desired');
    expect(srv.fleet.sessions.isOnline(gw.gatewayId!)).toBe(true);
    gw.close();
  });

  it('refuses a wrong signature and an unknown gateway', async () => {
    const gw = new SimulatedGateway({ baseUrl: srv.url });
    await gw.enrol(srv.createClaimToken().token);
    // Another key signs the challenge.
    const impostor = generateEd25519KeyPair();
    Object.assign(gw, { key: impostor });
    const s = await gw.connect();
    expect(s).toMatchObject({ accepted: false, reason: 'bad-signature' });
    expect((await gw.waitClosed()).code).toBe(CLOSE_CODES.authFailed);

    const stranger = new SimulatedGateway({ baseUrl: srv.url });
    Object.assign(stranger, { gatewayId: 'gw_notenrolled1', serverPublicKey: srv.fleet.serverKey.publicKey });
    expect(await stranger.connect()).toMatchObject({ accepted: false, reason: 'unknown-gateway' });
  });

  it('refuses a replayed nonce', async () => {
    const gw = new SimulatedGateway({ baseUrl: srv.url });
    await gw.enrol(srv.createClaimToken().token);
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/api/v1/gateway/ws`);
    const msgs: Record<string, unknown>[] = [];
    await new Promise<void>((resolve) => {
      ws.on('message', (d) => {
        msgs.push(JSON.parse(d.toString()));
        if (msgs.length === 1) {
          const stale = newNonce(); // a nonce from "an earlier session", signed correctly
          ws.send(
            JSON.stringify({
              type: 'auth',
              gatewayId: gw.gatewayId,
              nonce: stale,
              signature: signSessionProof(gw.gatewayId!, stale, gw.key.privateKey),
              clientNonce: newNonce(),
            }),
          );
        }
      });
      ws.on('close', () => resolve());
    });
    expect(msgs[1]).toMatchObject({ type: 'session', accepted: false, reason: 'bad-nonce' });
  });
});

describe('revocation', () => {
  it('closes the live session and refuses the next connection and HTTP telemetry', async () => {
    const op = await srv.tokenFor('fleetOperator');
    const gw = new SimulatedGateway({ baseUrl: srv.url });
    await gw.enrol(srv.createClaimToken().token);
    expect((await gw.connect()).accepted).toBe(true);
    const closed = gw.waitClosed();
    const r = await srv.call('POST', `/api/v1/gateways/${gw.gatewayId}/revoke`, { token: op });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('revoked');
    expect((await closed).code).toBe(CLOSE_CODES.revoked);
    expect(await gw.connect()).toMatchObject({ accepted: false, reason: 'revoked' });
    expect((await gw.waitClosed()).code).toBe(CLOSE_CODES.revoked);
    const post = await gw.postTelemetry(gw.nextReadings(1));
    expect(post.status).toBe(403);
    const audit = await srv.call('GET', `/api/v1/audit?entityType=gateway&entityId=${gw.gatewayId}`, {
      token: await srv.tokenFor('admin'),
    });
    expect(audit.body.map((a: { action: string }) => a.action)).toStrictEqual([
      'gateway.revoke',
      'gateway.enrol',
    ]);
    expect(audit.body[0]).toMatchObject({ before: { status: 'active' }, after: { status: 'revoked' } });
  });
});
