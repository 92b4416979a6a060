import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/core/index.ts';
import { refuseAllConfigs, startTestServer, type TestServer } from './helpers.ts';

let srv: TestServer;
const tokens = {} as Record<Role, string>;
beforeAll(async () => {
  srv = await startTestServer(refuseAllConfigs);
  for (const r of ['viewer', 'technician', 'fleetOperator', 'admin'] as const)
    tokens[r] = await srv.tokenFor(r);
});
afterAll(() => srv.stop());

// [method, path, body, lowest role allowed]
const cases: [string, string, unknown, Role][] = [
  ['GET', '/api/v1/gateways', undefined, 'viewer'],
  ['GET', '/api/v1/sites', undefined, 'viewer'],
  ['GET', '/api/v1/rollouts', undefined, 'viewer'],
  ['GET', '/api/v1/claim-tokens', undefined, 'technician'],
  ['POST', '/api/v1/claim-tokens', {}, 'technician'],
  ['POST', '/api/v1/sites', { name: 'S-%', kind: 'building' }, 'fleetOperator'],
  ['POST', '/api/v1/groups', { name: 'G-%' }, 'fleetOperator'],
  ['GET', '/api/v1/users', undefined, 'admin'],
  ['GET', '/api/v1/audit', undefined, 'admin'],
  ['POST', '/api/v1/users', { username: 'u%', role: 'viewer' }, 'admin'],
];
const order: Role[] = ['viewer', 'technician', 'fleetOperator', 'admin'];

describe('role checks', () => {
  let n = 0;
  for (const [method, path, body, lowest] of cases) {
    it(`${method} ${path} needs ${lowest}`, async () => {
      const anon = await srv.call(
        method,
        path,
        body === undefined ? {} : { body: JSON.parse(JSON.stringify(body).replace('%', String(++n))) },
      );
      expect(anon.status).toBe(401);
      expect(anon.body.code).toBe('unauthorized');
      for (const role of order) {
        const b =
          body === undefined ? {} : { body: JSON.parse(JSON.stringify(body).replace('%', String(++n))) };
        const r = await srv.call(method, path, { token: tokens[role], ...b });
        const allowed = order.indexOf(role) >= order.indexOf(lowest);
        if (allowed)
          expect(r.status, `${role} on ${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
        else {
          expect(r.status, `${role} on ${method} ${path}`).toBe(403);
          expect(r.body).toMatchObject({ code: 'forbidden', path: '' });
          expect(r.body.message).toContain(lowest);
        }
      }
    });
  }

  it('signs in with a password, uses the cookie, and signs out', async () => {
    const created = await srv.createUser('dispatcher', 'viewer');
    expect(created.password).toMatch(/^[A-Za-z0-9_-]{20}$/);
    const wrong = await srv.call('POST', '/api/v1/auth/login', {
      body: { username: 'dispatcher', password: 'nope' },
    });
    expect(wrong.status).toBe(401);
    const res = await fetch(`${srv.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'dispatcher', password: created.password }),
    });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/brana_session=.+HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    const cookie = setCookie.split(';')[0]!;
    const me = await srv.call('GET', '/api/v1/auth/me', { headers: { cookie } });
    expect(me.body).toMatchObject({ username: 'dispatcher', role: 'viewer', via: 'session' });
    const forbidden = await srv.call('POST', '/api/v1/sites', {
      headers: { cookie },
      body: { name: 'x', kind: 'other' },
    });
    expect(forbidden.status).toBe(403);
    await srv.call('POST', '/api/v1/auth/logout', { headers: { cookie } });
    expect((await srv.call('GET', '/api/v1/auth/me', { headers: { cookie } })).status).toBe(401);
  });

  it('refuses a revoked or unknown bearer token, and a disabled user', async () => {
    expect((await srv.call('GET', '/api/v1/sites', { token: 'brt_unknown' })).status).toBe(401);
    const t = await srv.call('POST', '/api/v1/tokens', { token: tokens.viewer, body: { name: 'ci' } });
    expect(t.status).toBe(201);
    expect((await srv.call('GET', '/api/v1/sites', { token: t.body.token })).status).toBe(200);
    expect((await srv.call('DELETE', `/api/v1/tokens/${t.body.id}`, { token: tokens.viewer })).status).toBe(
      200,
    );
    expect((await srv.call('GET', '/api/v1/sites', { token: t.body.token })).status).toBe(401);

    const victim = await srv.call('POST', '/api/v1/users', {
      token: tokens.admin,
      body: { username: 'leaver', role: 'technician' },
    });
    expect(victim.body.password).toBeTypeOf('string');
    const vt = await srv.call('POST', '/api/v1/auth/login', {
      body: { username: 'leaver', password: victim.body.password },
    });
    expect(vt.status).toBe(200);
    await srv.call('PATCH', `/api/v1/users/${victim.body.id}`, {
      token: tokens.admin,
      body: { disabled: true },
    });
    expect(
      (
        await srv.call('POST', '/api/v1/auth/login', {
          body: { username: 'leaver', password: victim.body.password },
        })
      ).status,
    ).toBe(401);
  });

  it('records who changed what, with before and after', async () => {
    const g = await srv.call('POST', '/api/v1/groups', {
      token: tokens.fleetOperator,
      body: { name: 'audited' },
    });
    const log = await srv.call('GET', `/api/v1/audit?entityType=group&entityId=${g.body.id}`, {
      token: tokens.admin,
    });
    expect(log.body).toHaveLength(1);
    expect(log.body[0]).toMatchObject({ action: 'group.create', after: { name: 'audited' }, before: null });
    expect(log.body[0].actor).toMatch(/^usr_/);
  });
});
