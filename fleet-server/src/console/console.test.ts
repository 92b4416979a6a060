import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUser } from '../auth/index.ts';
import { type ConfigValidator, createConfigDocument } from '../configs/index.ts';
import { openFleetDatabase } from '../db/index.ts';
import { createGroup, createSite } from '../devices/index.ts';
import { createFleet } from '../fleet.ts';
import { createFleetApp } from '../http/index.ts';
import { createConsole } from './index.ts';

const PASSWORD = 'correct horse battery';
const day = (ms: number) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Prague' }).format(ms);

async function setup(loginRateLimit?: { perSecond: number; burst: number }) {
  const database = openFleetDatabase(join(mkdtempSync(join(tmpdir(), 'brana-console-')), 'fleet.db'));
  // Tests may swap the validator; the parts are made with one that asks this variable.
  let validate: ConfigValidator = (doc) => ({ ok: true, config: doc });
  const fleet = createFleet(database, { validateConfig: (doc) => validate(doc) });
  const app = createFleetApp(fleet, { rateLimit: { perSecond: 1000, burst: 1000 } });
  app.route('/', createConsole(fleet, loginRateLimit ? { loginRateLimit } : {}));
  for (const role of ['viewer', 'technician', 'fleetOperator', 'admin'] as const) {
    await createUser(database.db, { username: role.toLowerCase(), role, password: PASSWORD }, 'system');
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
  const setValidator = (v: ConfigValidator) => {
    validate = v;
  };
  return { database, fleet, app, signIn, setValidator };
}

describe('console sign-in and roles', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    env = await setup();
  });
  afterEach(async () => {
    await env.fleet.hub.close();
    env.database.close();
    rmSync(dirname(env.database.path), { recursive: true, force: true });
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
    const site = createSite(env.fleet.database.db, { name: 'ZŠ Komenského', kind: 'building' }, 'system');
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

  it('renders every page with data for an admin, in English and Czech', async () => {
    const db = env.fleet.database.db;
    const school = createSite(db, { name: 'ZŠ Komenského', kind: 'building' }, 'system');
    const crossing = createSite(db, { name: 'Palackého × Husova', kind: 'intersection' }, 'system');
    const group = createGroup(db, { name: 'pilot' }, 'system');
    const now = Date.now();
    const insert = env.database.sqlite.prepare(
      `INSERT INTO gateways (id, num, name, site_id, public_key, status, enrolled_at) VALUES (?, ?, ?, ?, ?, 'active', ?)`,
    );
    insert.run('gw_a', 1, 'school-boiler', school.id, 'k1', now);
    insert.run('gw_x', 2, 'crossing-tl', crossing.id, 'k2', now);
    env.database.sqlite
      .prepare('INSERT INTO gateway_groups (gateway_id, group_id) VALUES (?, ?)')
      .run('gw_a', group.id);
    const t0 = Math.floor(now / 900_000) * 900_000 - 4 * 900_000;
    env.fleet.telemetry.store.ingest(1, {
      readings: [0, 1, 2, 3].map((k) => ({
        bootEpoch: 1,
        seq: k + 1,
        ts: t0 + k * 900_000,
        channel: 'meter.energyImportKWh',
        value: 100 + k * 2.5,
        quality: 'good' as const,
        unit: 'kWh',
        kind: 'counter' as const,
      })),
      events: [],
    });
    env.fleet.telemetry.store.ingest(2, {
      readings: [],
      events: [
        {
          bootEpoch: 1,
          seq: 1,
          ts: now - 5000,
          kind: 'preemption.asserted',
          severity: 'info',
          data: { approach: 1, role: 'fire', requestedAt: now - 5120 },
        },
        {
          bootEpoch: 1,
          seq: 2,
          ts: now - 1000,
          kind: 'preemption.released',
          severity: 'info',
          data: { approach: 1, reason: 'holdMax' },
        },
      ],
    });
    const deps = { validate: env.fleet.validateConfig, serverKey: env.fleet.serverKey.privateKey };
    createConfigDocument(db, deps, { config: { name: 'a', relays: [] } }, 'system');
    createConfigDocument(db, deps, { config: { name: 'b', relays: [] } }, 'system');
    const rollout = env.fleet.rollouts.create({ configVersion: 2, target: { group: group.id } }, 'system');
    const admin = await env.signIn('admin');
    const pages: [string, string][] = [
      ['/console/', 'school-boiler'],
      ['/console/gateways/gw_a', 'meter.energyImportKWh'],
      ['/console/gateways/gw_a?channel=meter.energyImportKWh&range=7d', 'data-chart="meter.energyImportKWh"'],
      [
        `/console/gateways/gw_a?channel=meter.energyImportKWh&from=${day(now - 2 * 86400_000)}&to=${day(now)}`,
        '<script type="application/json">{"x":[',
      ],
      ['/console/energy?interval=15m', 'ZŠ Komenského'],
      ['/console/energy?interval=1mo', 'kWh'],
      ['/console/intersections', 'holdMax'],
      ['/console/configs', 'name: b'],
      ['/console/configs/2', 'name: b'],
      ['/console/configs/diff?a=1&b=2', '<span class="add">+ name: b</span>'],
      ['/console/rollouts', 'pilot'],
      [`/console/rollouts/${rollout.id}`, 'school-boiler'],
      ['/console/claims', 'name="gatewayName"'],
      ['/console/audit', 'rollout.create'],
    ];
    for (const [path, expected] of pages) {
      for (const lang of ['en', 'cs']) {
        const res = await admin(path, { headers: { cookie: `${admin.cookie}; brana_lang=${lang}` } });
        const text = await res.text();
        expect(res.status, `${path} (${lang})`).toBe(200);
        expect(text, `${path} (${lang})`).toContain(expected);
        expect(text).toContain(`<html lang="${lang}">`);
      }
    }
    const csv = await admin('/console/energy.csv?interval=15m');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect((await csv.text()).split('\r\n')[0]).toBe(
      'site_id,site_name,interval_start_utc,energy_kwh,water_m3',
    );
    // Dates choose the chart's range: ten days ago holds none of the readings.
    const old = day(now - 10 * 86400_000);
    const empty = await (
      await admin(`/console/gateways/gw_a?channel=meter.energyImportKWh&from=${old}&to=${old}`)
    ).text();
    expect(empty).not.toContain('data-chart=');
    const backwards = await admin(`/console/gateways/gw_a?from=${day(now)}&to=${day(now - 2 * 86400_000)}`);
    expect(backwards.status).toBe(400);
    expect(await backwards.text()).toContain('query.to');
    const missing = await admin('/console/gateways/gw_nope');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('gw_nope');
    expect((await admin('/console/no-such-page')).status).toBe(404);
  });

  it('shows config errors at their path and line, and lets only operators save', async () => {
    const strict: ConfigValidator = (doc) => {
      const d = doc as { name?: unknown };
      return typeof d?.name === 'string'
        ? { ok: true, config: doc }
        : { ok: false, errors: [{ path: 'name', message: 'expected a string', fix: 'add name' }] };
    };
    env.setValidator(strict);
    const form = (text: string, action: string) => ({
      method: 'POST',
      body: new URLSearchParams({ text, action, comment: '' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const viewer = await env.signIn('viewer');
    const bad = await viewer('/console/configs', form('relays: []\nname: 7\n', 'validate'));
    expect(bad.status).toBe(422);
    const html = await bad.text();
    expect(html).toContain('data-path="name"');
    expect(html).toContain('line 2');
    const broken = await viewer('/console/configs', form('name: [unclosed\n', 'validate'));
    expect(broken.status).toBe(422);
    expect(await broken.text()).toContain('YAML or JSON');
    const refused = await viewer('/console/configs', form('name: ok\n', 'save'));
    expect(refused.status).toBe(403);
    const operator = await env.signIn('fleetoperator');
    const saved = await operator('/console/configs', form('name: ok\n', 'save'));
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toBe('/console/configs?saved=1');
    expect(
      (await viewer('/console/rollouts', { method: 'POST', body: new URLSearchParams({}) })).status,
    ).toBe(403);
  });

  it('creates a claim token shown once with a QR code, and revokes it', async () => {
    const tech = await env.signIn('technician');
    const res = await tech('/console/claims', {
      method: 'POST',
      body: new URLSearchParams({ gatewayName: 'annex', tags: 'school, pilot', expiresInHours: '24' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(201);
    const html = await res.text();
    const token = /data-token="(brc_[^"]+)"/.exec(html)?.[1];
    expect(token).toBeDefined();
    expect(html).toMatch(/<div class="qr"><svg[^>]*viewBox/);
    const list = await (await tech('/console/claims')).text();
    expect(list).not.toContain(token!);
    const id = /data-claim="(clm_[^"]+)"/.exec(list)![1]!;
    const revoked = await tech(`/console/claims/${id}/revoke`, { method: 'POST' });
    expect(revoked.status).toBe(303);
    expect(await (await tech('/console/claims')).text()).toContain('b-revoked');
    const badTag = await tech('/console/claims', {
      method: 'POST',
      body: new URLSearchParams({ tags: 'Bad Tag!' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(badTag.status).toBe(400);
    expect(await badTag.text()).toContain('tags[1]: &quot;tag!&quot; is not a tag');
  });

  it('slows down password guessing with a limit per client', async () => {
    const limited = await setup({ perSecond: 0.001, burst: 2 });
    const attempt = () =>
      limited.app.request('/console/login', {
        method: 'POST',
        body: new URLSearchParams({ username: 'admin', password: 'guess guess guess' }),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'en' },
      });
    expect((await attempt()).status).toBe(401);
    expect((await attempt()).status).toBe(401);
    const third = await attempt();
    expect(third.status).toBe(429);
    expect(await third.text()).toMatch(/Too many attempts; wait \d+ s/);
    await limited.fleet.hub.close();
    limited.database.close();
    rmSync(dirname(limited.database.path), { recursive: true, force: true });
  });

  it('starts a staged rollout from the form, then pauses, resumes and aborts it', async () => {
    const db = env.fleet.database.db;
    const group = createGroup(db, { name: 'pilot' }, 'system');
    const insert = env.database.sqlite.prepare(
      `INSERT INTO gateways (id, num, name, public_key, status, enrolled_at) VALUES (?, ?, ?, ?, 'active', 0)`,
    );
    const members = env.database.sqlite.prepare(
      'INSERT INTO gateway_groups (gateway_id, group_id) VALUES (?, ?)',
    );
    for (let i = 1; i <= 4; i++) {
      insert.run(`gw_${i}`, i, `gw-${i}`, `k${i}`);
      members.run(`gw_${i}`, group.id);
    }
    createConfigDocument(
      db,
      { validate: env.fleet.validateConfig, serverKey: env.fleet.serverKey.privateKey },
      { config: { name: 'a' } },
      'system',
    );
    const operator = await env.signIn('fleetoperator');
    const post = (path: string, fields: Record<string, string> = {}) =>
      operator(path, {
        method: 'POST',
        body: new URLSearchParams(fields),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    const bad = await post('/console/rollouts', {
      configVersion: '1',
      target: `group:${group.id}`,
      stages: '50,40',
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('stages[1]');
    const started = await post('/console/rollouts', {
      configVersion: '1',
      target: `group:${group.id}`,
      stages: '25,100',
      maxFailureShare: '0,2',
    });
    expect(started.status).toBe(303);
    const page = started.headers.get('location')!;
    const id = decodeURIComponent(page.split('/').pop()!);
    const html = await (await operator(page)).text();
    expect(html).toContain('data-stage="0" data-state="active"');
    expect(html).toContain('data-action="pause"');
    expect((await post(`${page}/pause`)).status).toBe(303);
    expect(env.fleet.rollouts.get(id).state).toBe('paused');
    expect(await (await operator(page)).text()).toContain('data-action="resume"');
    expect((await post(`${page}/resume`)).status).toBe(303);
    expect(env.fleet.rollouts.get(id).state).toBe('running');
    expect((await post(`${page}/abort`)).status).toBe(303);
    expect(env.fleet.rollouts.get(id).state).toBe('aborted');
    const again = await post(`${page}/resume`);
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('cannot resume');
  });
});
