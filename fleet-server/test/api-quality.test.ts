import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refuseAllConfigs, startTestServer, type TestServer } from './helpers.ts';

let srv: TestServer;
let op: string;
beforeAll(async () => {
  srv = await startTestServer(refuseAllConfigs, {
    app: { maxBodyBytes: 4096, rateLimit: { perSecond: 1, burst: 1000 } },
  });
  op = await srv.tokenFor('fleetOperator');
});
afterAll(() => srv.stop());

describe('bad input', () => {
  it('answers malformed JSON with 400 and where', async () => {
    const r = await srv.call('POST', '/api/v1/sites', {
      token: op,
      raw: '{"name": "x", ',
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'malformed-json', path: 'body' });
    expect(r.body.message).toMatch(/not valid JSON/);
  });

  it('names the field of a wrong type, a missing field and an unknown field', async () => {
    const wrongType = await srv.call('POST', '/api/v1/sites', {
      token: op,
      body: { name: 42, kind: 'building' },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toMatchObject({ code: 'invalid-input', path: 'body.name' });
    const missing = await srv.call('POST', '/api/v1/sites', { token: op, body: { name: 'x' } });
    expect(missing.body).toMatchObject({ code: 'invalid-input', path: 'body.kind' });
    expect(missing.body.message).toContain('missing');
    const badEnum = await srv.call('POST', '/api/v1/sites', {
      token: op,
      body: { name: 'x', kind: 'castle' },
    });
    expect(badEnum.body.path).toBe('body.kind');
    const unknown = await srv.call('POST', '/api/v1/sites', {
      token: op,
      body: { name: 'x', kind: 'building', colour: 'red' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ path: 'body.colour' });
    expect(unknown.body.message).toContain('unknown field "colour"');
    const nested = await srv.call('POST', '/api/v1/enrol', {
      body: { protocol: 1, claimToken: 'brc_xxxxxxxxxxxx', publicKey: 'short' },
    });
    expect(nested.body).toMatchObject({ code: 'invalid-input', path: 'body.publicKey' });
    const query = await srv.call('GET', '/api/v1/events?from=yesterday&to=1', { token: op });
    expect(query.status).toBe(400);
    expect(query.body.path).toBe('query.from');
  });

  it('answers a second site or group of the same name with 409 naming the field', async () => {
    for (const [path, body] of [
      ['/api/v1/sites', { name: 'Radnice', kind: 'building' }],
      ['/api/v1/groups', { name: 'radnice' }],
    ] as const) {
      expect((await srv.call('POST', path, { token: op, body })).status).toBe(201);
      const again = await srv.call('POST', path, { token: op, body });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ code: 'conflict', path: 'name' });
      expect(again.body.message).toContain('exists; pick another name');
    }
  });

  it('refuses an oversized body with 413', async () => {
    const r = await srv.call('POST', '/api/v1/sites', {
      token: op,
      body: { name: 'x'.repeat(5000), kind: 'building' },
    });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ code: 'payload-too-large' });
  });

  it('answers unknown routes and ids with 404 JSON, never a stack trace', async () => {
    const r = await srv.call('GET', '/api/v1/nothing', { token: op });
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('not-found');
    const g = await srv.call('GET', '/api/v1/gateways/gw_doesnotexist', { token: op });
    expect(g.status).toBe(404);
    expect(g.body).toMatchObject({ code: 'not-found', path: 'id' });
    for (const body of [r.body, g.body]) expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe('rate limit', () => {
  it('answers 429 with retry-after once a client spends its burst', async () => {
    // One token back per 100 s: at 0.5/s a loaded machine that took over 2 s for the eight
    // requests would refill one and answer 401 where the test expects 429.
    const limited = await startTestServer(refuseAllConfigs, {
      app: { rateLimit: { perSecond: 0.01, burst: 5 } },
    });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 8; i++) {
        const res = await fetch(`${limited.url}/api/v1/sites`);
        statuses.push(res.status);
        if (res.status === 429) retryAfter = res.headers.get('retry-after');
        await res.text();
      }
      expect(statuses.slice(0, 5)).toStrictEqual([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).toStrictEqual([429, 429, 429]);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.stop();
    }
  });
});

describe('/openapi.json', () => {
  it('documents every route with its schemas and roles', async () => {
    const r = await srv.call('GET', '/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    const sites = r.body.paths['/api/v1/sites'].post;
    expect(sites['x-brana-role']).toBe('fleetOperator');
    expect(sites.requestBody.content['application/json'].schema.properties.kind.enum).toStrictEqual([
      'building',
      'intersection',
      'other',
    ]);
    expect(sites.requestBody.content['application/json'].schema.additionalProperties).toBe(false);
    expect(r.body.paths['/api/v1/gateways/{id}/revoke'].post).toBeDefined();
    expect(
      r.body.paths['/api/v1/enrol'].post.responses['201'].content['application/json'].schema.properties
        .serverPublicKey,
    ).toBeDefined();
    // The telemetry body is read by the route itself, and still documented: records or columns.
    const telemetry =
      r.body.paths['/api/v1/gateway/telemetry'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(telemetry.properties)).toEqual(['readings', 'columns', 'events']);
    expect(Object.keys(telemetry.properties.columns.properties)).toEqual(
      expect.arrayContaining(['channels', 'channel', 'seq', 'ts', 'value', 'quality']),
    );
    const params = r.body.paths['/api/v1/events'].get.parameters.map((p: { name: string }) => p.name);
    expect(params).toEqual(expect.arrayContaining(['siteId', 'kind', 'from', 'to']));
  });
});
