import { verifyDocument } from '@brana/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firmwareConfigValidator } from '../src/configs/index.ts';
import { eventually, startTestServer, type TestServer } from './helpers.ts';
import { SimulatedGateway } from './simulated-gateway.ts';

let srv: TestServer;
let op: string;
beforeAll(async () => {
  srv = await startTestServer(firmwareConfigValidator);
  op = await srv.tokenFor('fleetOperator');
});
afterAll(() => srv.stop());

const goodConfig = (name: string) => ({ name, alarms: [{ name: 'door', line: 'GPIO5' }] });

async function fleetOf(n: number, groupName: string) {
  const group = await srv.call('POST', '/api/v1/groups', { token: op, body: { name: groupName } });
  const gws: SimulatedGateway[] = [];
  for (let i = 0; i < n; i++) {
    const gw = new SimulatedGateway({ baseUrl: srv.url, reportSteps: true });
    await gw.enrol(srv.createClaimToken({ groupId: group.body.id }).token);
    gws.push(gw);
  }
  // Stages take targets in gateway-id order.
  gws.sort((a, b) => (a.gatewayId! < b.gatewayId! ? -1 : 1));
  return { groupId: group.body.id as string, gws };
}

async function newConfig(name: string): Promise<number> {
  const r = await srv.call('POST', '/api/v1/configs', {
    token: op,
    body: { config: goodConfig(name), comment: name },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.version;
}

describe('config documents', () => {
  it('refuses a config the firmware schema rejects, naming the path and the fix', async () => {
    const r = await srv.call('POST', '/api/v1/configs', {
      token: op,
      body: {
        config: {
          name: 'x',
          alarms: [
            { name: 'a', line: 'GPIO5' },
            { name: 'b', line: 'GPIO5' },
          ],
        },
      },
    });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ code: 'config-invalid', path: 'config.alarms[1].line' });
    expect(r.body.details[0].fix).toBeTypeOf('string');
    const v = await srv.call('POST', '/api/v1/configs/validate', {
      token: op,
      body: { config: { name: 'x', colour: 1 } },
    });
    expect(v.body.ok).toBe(false);
    expect(v.body.errors[0].message).toContain('colour');
  });

  it('stores a signed document that verifies with the server key', async () => {
    const version = await newConfig('signed');
    const doc = await srv.call('GET', `/api/v1/configs/${version}`, { token: op });
    expect(verifyDocument(doc.body, srv.fleet.serverKey.publicKey)).toMatchObject({ ok: true });
    // defaults filled in by the schema are part of what is signed
    expect(doc.body.config.telemetry.batchSize).toBe(500);
  });
});

describe('staged rollouts', () => {
  it('reaches every gateway stage by stage and completes', async () => {
    const { groupId, gws } = await fleetOf(6, 'all-good');
    for (const gw of gws) expect((await gw.connect()).accepted).toBe(true);
    const version = await newConfig('all-good');
    const r = await srv.call('POST', '/api/v1/rollouts', {
      token: op,
      body: { configVersion: version, target: { group: groupId }, stages: [34, 100] },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const done = await eventually(async () => {
      const s = await srv.call('GET', `/api/v1/rollouts/${r.body.id}`, { token: op });
      expect(s.body.state).toBe('completed');
      return s.body;
    });
    expect(
      done.stages.map((s: { state: string; counts: { applied: number } }) => [s.state, s.counts.applied]),
    ).toStrictEqual([
      ['done', 3],
      ['done', 3],
    ]);
    for (const gw of gws) expect(gw.running?.version).toBe(version);
    const view = await srv.call('GET', `/api/v1/gateways/${gws[0]!.gatewayId}`, { token: op });
    expect(view.body).toMatchObject({
      runningVersion: version,
      desiredVersion: version,
      applyState: 'applied',
    });
    for (const gw of gws) gw.close();
  });

  it('stops by itself when more than the set share of the canary fails, before the rest get it', async () => {
    const { groupId, gws } = await fleetOf(10, 'canary-fails');
    gws[0]!.applyPolicy = 'fail';
    gws[1]!.applyPolicy = 'rollBack';
    for (const gw of gws) expect((await gw.connect()).accepted).toBe(true);
    const version = await newConfig('canary-fails');
    const r = await srv.call('POST', '/api/v1/rollouts', {
      token: op,
      body: { configVersion: version, target: { group: groupId }, stages: [30, 100], maxFailureShare: 0.4 },
    });
    const stopped = await eventually(async () => {
      const s = await srv.call('GET', `/api/v1/rollouts/${r.body.id}`, { token: op });
      expect(s.body.state).toBe('stopped');
      return s.body;
    });
    expect(stopped.stopReason).toBe('2 of 3 gateways in stage 1 failed to apply (limit 40 %)');
    expect(stopped.stages[1]).toMatchObject({ state: 'pending', counts: { pending: 7 } });
    const targets = await srv.call('GET', `/api/v1/rollouts/${r.body.id}/targets`, { token: op });
    expect(targets.body.find((t: { gatewayId: string }) => t.gatewayId === gws[0]!.gatewayId)).toMatchObject({
      state: 'failed',
      errors: [{ path: 'buses[0]', message: 'simulated failure' }],
    });
    expect(targets.body.find((t: { gatewayId: string }) => t.gatewayId === gws[1]!.gatewayId).state).toBe(
      'rolledBack',
    );
    // the rest never received the document
    for (const gw of gws.slice(3)) {
      expect(gw.received.some((m) => m.type === 'desired' && m.document?.version === version)).toBe(false);
    }
    expect((await srv.call('POST', `/api/v1/rollouts/${r.body.id}/resume`, { token: op })).status).toBe(409);
    const audit = await srv.call('GET', `/api/v1/audit?entityType=rollout&entityId=${r.body.id}`, {
      token: await srv.tokenFor('admin'),
    });
    expect(audit.body.map((a: { action: string }) => a.action)).toContain('rollout.stop');
    for (const gw of gws) gw.close();
  });

  it('holds while paused, reconciles gateways that were offline, and finishes on resume', async () => {
    const { groupId, gws } = await fleetOf(4, 'offline-then-back');
    const version = await newConfig('offline-then-back');
    // every gateway is offline when the rollout starts
    const r = await srv.call('POST', '/api/v1/rollouts', {
      token: op,
      body: { configVersion: version, target: { group: groupId }, stages: [50, 100] },
    });
    expect((await srv.call('POST', `/api/v1/rollouts/${r.body.id}/pause`, { token: op })).body.state).toBe(
      'paused',
    );
    // The canary comes back: on connect it reports what it runs and gets what it should run.
    for (const gw of gws.slice(0, 2)) {
      await gw.connect();
      await eventually(() => expect(gw.running?.version).toBe(version));
    }
    await eventually(async () => {
      const s = await srv.call('GET', `/api/v1/rollouts/${r.body.id}`, { token: op });
      expect(s.body.stages[0].counts.applied).toBe(2);
    });
    const held = await srv.call('GET', `/api/v1/rollouts/${r.body.id}`, { token: op });
    expect(held.body).toMatchObject({ state: 'paused', currentStage: 0 });

    // Gateway 3 applies during an outage but its report is lost; gateway 4 stays offline till resume.
    const late = gws[2]!;
    late.applyPolicy = 'ignore';
    await srv.call('POST', `/api/v1/rollouts/${r.body.id}/resume`, { token: op });
    await late.connect();
    const desired = await late.waitFor((m) => m.type === 'desired' && m.document?.version === version);
    if (desired.type === 'desired' && desired.document)
      late.running = { version, hash: desired.document.hash };
    late.terminate();
    await eventually(() => expect(srv.fleet.sessions.isOnline(late.gatewayId!)).toBe(false));
    late.applyPolicy = 'apply';
    await late.connect(); // hello reports the new version: counted as applied
    await gws[3]!.connect();
    const done = await eventually(async () => {
      const s = await srv.call('GET', `/api/v1/rollouts/${r.body.id}`, { token: op });
      expect(s.body.state).toBe('completed');
      return s.body;
    });
    expect(done.counts).toMatchObject({ applied: 4, failed: 0 });
    for (const gw of gws) gw.close();
  });

  it('aborts on request and refuses a second rollout over the same gateways while one runs', async () => {
    const { groupId, gws } = await fleetOf(2, 'abort-me');
    const version = await newConfig('abort-me');
    const r = await srv.call('POST', '/api/v1/rollouts', {
      token: op,
      body: { configVersion: version, target: { group: groupId } },
    });
    const clash = await srv.call('POST', '/api/v1/rollouts', {
      token: op,
      body: { configVersion: version, target: { group: groupId } },
    });
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('rollout-overlap');
    const a = await srv.call('POST', `/api/v1/rollouts/${r.body.id}/abort`, { token: op });
    expect(a.body).toMatchObject({ state: 'aborted', stopReason: 'aborted by an operator' });
    expect((await srv.call('POST', `/api/v1/rollouts/${r.body.id}/pause`, { token: op })).status).toBe(409);
    const bad = await srv.call('POST', '/api/v1/rollouts', {
      token: op,
      body: { configVersion: version, target: { group: groupId }, stages: [50, 40] },
    });
    expect(bad.body).toMatchObject({ code: 'bad-request', path: 'stages[1]' });
    void gws;
  });
});
