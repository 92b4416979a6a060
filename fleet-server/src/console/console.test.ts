import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUser } from '../auth/users.ts';
import { openFleetDatabase } from '../db/index.ts';
import { createSite } from '../devices/devices.ts';
import { createFleetApp } from '../http/app.ts';
import { createFleetContext } from '../server.ts';
import { createConsole } from './index.ts';

const PASSWORD = 'correct horse battery';

async function setup() {
  const database = openFleetDatabase(':memory:');
  const fleet = createFleetContext(database, { validateConfig: (doc) => ({ ok: true, config: doc }) });
  const { app } = createFleetApp(fleet, { rateLimit: { perSecond: 1000, burst: 1000 } });
  app.route('/', createConsole({ fleet }));
  for (const role of ['viewer', 'technician', 'fleetOperator', 'admin'] as const) {
    await createUser(fleet.db, { username: role.toLowerCase(), role, password: PASSWORD }, 'system');
  }
  const signIn = async (username: string) => {
    const res = await app.request('/console/login', {
      method: 'POST',
      body: new URLSearchParams({ username, password: PASSWORD, next: '/console/' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(303);
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    const fetcher = (path: string, init: RequestInit = {}) =>
      app.request(path, { ...init, headers: { cookie, 'accept-language': 'en', ...(init.headers ?? {}) } });
    return Object.assign(fetcher, { cookie });
  };
  return { database, fleet, app, signIn };
}

describe('console sign-in and roles', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    env = await setup();
  });
  afterEach(async () => {
    await env.fleet.hub.close();
    env.database.close();
  });

  it('sends a visitor without a session to the sign-in page, keeping where they wanted to go', async () => {
    const res = await env.app.request('/console/energy?interval=1d');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/login?next=%2Fconsole%2Fenergy%3Finterval%3D1d');
  });

  it('refuses a wrong password with a message and no session', async () => {
    const res = await env.app.request('/console/login', {
      method: 'POST',
      body: new URLSearchParams({ username: 'admin', password: 'wrong password!!' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'en' },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('Wrong username or password.');
  });

  it('shows each role only the pages it may open', async () => {
    const viewer = await env.signIn('viewer');
    const home = await (await viewer('/console/')).text();
    expect(home).toContain('href="/console/energy"');
    expect(home).not.toContain('href="/console/claims"');
    expect(home).not.toContain('href="/console/audit"');
    const admin = await env.signIn('admin');
    const adminHome = await (await admin('/console/')).text();
    expect(adminHome).toContain('href="/console/claims"');
    expect(adminHome).toContain('href="/console/audit"');
  });

  it('answers a page above the role with 403 naming the role needed', async () => {
    const viewer = await env.signIn('viewer');
    const res = await viewer('/console/audit');
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(text).toContain('needs admin');
    expect(text).not.toContain(' at ');
  });

  it('switches the language with a cookie and comes back to the page', async () => {
    const viewer = await env.signIn('viewer');
    expect(await (await viewer('/console/')).text()).toContain('<h1>Fleet</h1>');
    const res = await viewer('/console/lang?to=cs&back=%2Fconsole%2F%3Fq%3Dx');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/?q=x');
    const lang = res.headers.get('set-cookie')!.split(';')[0]!;
    const page = await viewer('/console/', { headers: { cookie: `${viewer.cookie}; ${lang}` } });
    expect(await page.text()).toContain('<h1>Flotila</h1>');
  });

  it('never sends the user elsewhere after sign-in or a language switch', async () => {
    const viewer = await env.signIn('viewer');
    const res = await viewer('/console/lang?to=en&back=https%3A%2F%2Fevil.example%2F');
    expect(res.headers.get('location')).toBe('/console/');
  });

  it('names the bad query parameter', async () => {
    const viewer = await env.signIn('viewer');
    const res = await viewer('/console/?state=sleeping');
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('query.state');
  });

  it('refuses a form posted from another site', async () => {
    const admin = await env.signIn('admin');
    const res = await admin('/console/logout', {
      method: 'POST',
      headers: { origin: 'https://evil.example', host: 'localhost' },
    });
    expect(res.status).toBe(403);
  });

  it('lists gateways with site and state and filters by search', async () => {
    const site = createSite(env.fleet.db, { name: 'ZŠ Komenského', kind: 'building' }, 'system');
    const now = Date.now();
    const insert = env.database.sqlite.prepare(
      `INSERT INTO gateways (id, num, name, site_id, public_key, status, enrolled_at, last_seen_at, running_version, desired_version, apply_state)
       VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?)`,
    );
    insert.run('gw_a', 1, 'school-boiler', site.id, 'k1', now, now - 3600_000, 3, 3, 'applied');
    insert.run('gw_b', 2, 'pool-pumps', null, 'k2', now, null, null, 4, 'rolledBack');
    const viewer = await env.signIn('viewer');
    const all = await (await viewer('/console/')).text();
    expect(all).toContain('school-boiler');
    expect(all).toContain('ZŠ Komenského');
    expect(all).toContain('offline since');
    expect(all).toContain('rolled back');
    const filtered = await (await viewer('/console/?q=pool')).text();
    expect(filtered).toContain('pool-pumps');
    expect(filtered).not.toContain('school-boiler');
    const byState = await (await viewer('/console/?state=rolledBack')).text();
    expect(byState).toContain('pool-pumps');
    expect(byState).not.toContain('school-boiler');
  });
});
