// The web console in a real browser (Debian chromium through playwright-core) against a real fleet
// server with a SQLite file and simulated gateways speaking the real wire protocol.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReadingRecord } from '@brana/protocol';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firmwareConfigValidator } from '../src/configs/index.ts';
import { createGroup, createSite } from '../src/devices/index.ts';
import { startTestServer, type TestServer } from '../test/helpers.ts';
import { SimulatedGateway } from '../test/simulated-gateway.ts';
import { launchChromium } from './console-browser.ts';

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '../test-artifacts');
const PASSWORD = 'correct horse battery';

describe('web console in chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const gateways: SimulatedGateway[] = [];
  let intersectionGw: SimulatedGateway;

  const shot = (name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startTestServer(firmwareConfigValidator, {
      app: { rateLimit: { perSecond: 1000, burst: 1000 } },
      console: true,
    });
    await server.createUser('anna', 'admin', PASSWORD);
    const db = server.fleet.database.db;
    const school = createSite(db, { name: 'ZŠ Komenského', kind: 'building' }, 'system');
    const pool = createSite(db, { name: 'Městský bazén', kind: 'building' }, 'system');
    const crossing = createSite(
      db,
      { name: 'Křižovatka Palackého × Husova', kind: 'intersection' },
      'system',
    );
    const pilot = createGroup(db, { name: 'pilot' }, 'system');
    const plan = [
      { name: 'school-boiler', siteId: school.id },
      { name: 'pool-pumps', siteId: pool.id },
      { name: 'palackeho-tl', siteId: crossing.id },
    ];
    for (const p of plan) {
      const claim = server.createClaimToken({ gatewayName: p.name, siteId: p.siteId, groupId: pilot.id });
      const gw = new SimulatedGateway({ baseUrl: server.url });
      await gw.enrol(claim.token);
      const session = await gw.connect();
      expect(session.accepted).toBe(true);
      gateways.push(gw);
    }
    intersectionGw = gateways[2]!;
    // Six hours of quarter-hour meter readings for both buildings, so the energy pages have data.
    const end = Math.floor(Date.now() / 900_000) * 900_000;
    for (const [i, gw] of gateways.slice(0, 2).entries()) {
      const readings: ReadingRecord[] = [];
      for (let k = 24; k >= 0; k--) {
        const ts = end - k * 900_000;
        readings.push({
          ...gw.nextReadings(1, ts, 'meter.energyImportKWh')[0]!,
          value: 1000 + (24 - k) * (5 + i * 3),
        });
        readings.push({
          ...gw.nextReadings(1, ts, 'water.volumeM3')[0]!,
          value: 50 + (24 - k) * 0.1,
          unit: 'm3',
        });
      }
      await gw.sendTelemetry(readings);
    }
    browser = await launchChromium();
    // A 10" tablet in landscape.
    context = await browser.newContext({
      viewport: { width: 1024, height: 768 },
      locale: 'en-GB',
      acceptDownloads: true,
    });
    page = await context.newPage();
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    for (const gw of gateways) gw.close();
    await server?.stop();
  });

  it('signs in and lists the fleet, readable on a tablet', async () => {
    await page.goto(`${server.url}/console/`);
    expect(page.url()).toContain('/console/login');
    await shot('login');
    await page.fill('input[name=username]', 'anna');
    await page.fill('input[name=password]', 'wrong password');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('[role=alert]')).toContain('Wrong username or password');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${server.url}/console/`);
    const rows = page.locator('table.fleet tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    expect(await page.textContent('table.fleet')).toContain('ZŠ Komenského');
    expect(await page.locator('tr[data-gateway] .b-online').count()).toBe(3);
    const overflow = await page.evaluate(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(1);
    await shot('fleet');
  });

  it("shows a gateway's live value change without reloading the page", async () => {
    const gw = gateways[0]!;
    const power = (value: number) => ({
      ...gw.nextReadings(1, Date.now(), 'meter.powerW')[0]!,
      value,
      unit: 'W',
      kind: 'gauge' as const,
    });
    await gw.sendTelemetry([power(1200)]);
    await page.goto(`${server.url}/console/gateways/${gw.gatewayId}?channel=meter.energyImportKWh&range=24h`);
    await page.waitForSelector('body.live-on');
    await page.evaluate('window.marker = 42');
    const cell = page.locator('tr[data-channel="meter.powerW"] .v');
    expect(await cell.textContent()).toBe('1,200');
    await gw.sendTelemetry([power(3456.5)]);
    await expect.poll(() => cell.textContent(), { timeout: 5000 }).toBe('3,456.5');
    expect(await page.evaluate('window.marker')).toBe(42);
    expect(await page.locator('.chart .uplot').count()).toBe(1);
    await shot('gateway');
  });

  it('shows validation errors at their path, then starts a rollout and watches it finish', async () => {
    await page.goto(`${server.url}/console/configs`);
    await page.fill('textarea.editor', 'name: school\ntelemetry:\n  uploadIntervalS: -5\n');
    await page.click('button[value=validate]');
    const issue = page.locator('.issues li[data-path="telemetry.uploadIntervalS"]');
    await expect.poll(() => issue.count()).toBe(1);
    expect(await issue.textContent()).toContain('line 3');
    await shot('config-errors');
    await page.fill('textarea.editor', 'name: school\ntelemetry:\n  uploadIntervalS: 10\n');
    await page.fill('input[name=comment]', 'faster uploads');
    await page.click('button[value=save]');
    await page.waitForURL(/\/console\/configs\?saved=1$/);
    expect(await page.textContent('[role=status]')).toContain('version 1');

    await page.goto(`${server.url}/console/rollouts`);
    await page.selectOption('select[name=configVersion]', '1');
    await page.fill('input[name=stages]', '34,100');
    await page.click('form[action="/console/rollouts"] button[type=submit]');
    await page.waitForURL(/\/console\/rollouts\/ro_/);
    // The simulated gateways apply at once; the page follows over SSE until the rollout completes.
    await page.waitForSelector('p.summary[data-state="completed"]', { timeout: 20_000 });
    expect(await page.locator('tr[data-target][data-state="applied"]').count()).toBe(3);
    expect(await page.locator('.stage[data-state="done"]').count()).toBe(2);
    await shot('rollout');
    await page.goto(`${server.url}/console/configs`);
    await shot('configs');
  });

  it('shows a preemption appear on the intersection page as it happens', async () => {
    await page.goto(`${server.url}/console/intersections`);
    await page.waitForSelector('body.live-on');
    expect(await page.locator('tr[data-preemption]').count()).toBe(0);
    const now = Date.now();
    const asserted = {
      ...intersectionGw.nextEvent('preemption.asserted', {
        approach: 2,
        role: 'ambulance',
        vehicle: 'ZZS-112',
        requestedAt: now - 180,
      }),
      ts: now,
    };
    const rejected = intersectionGw.nextEvent('preemption.rejected', { reason: 'stale' });
    await intersectionGw.sendTelemetry([], [asserted, rejected]);
    const row = page.locator('tr[data-preemption="ambulance"]');
    await expect.poll(() => row.count(), { timeout: 5000 }).toBe(1);
    expect(await row.textContent()).toContain('180 ms');
    expect(await page.textContent('table.rejections')).toContain('stale');
    await intersectionGw.sendTelemetry(
      [],
      [
        {
          ...intersectionGw.nextEvent('preemption.released', { approach: 2, reason: 'cancel' }),
          ts: now + 8000,
        },
      ],
    );
    await expect.poll(() => row.textContent(), { timeout: 5000 }).toContain('cancel');
    await shot('intersections');
  });

  it('exports the energy dispatch as CSV', async () => {
    await page.goto(`${server.url}/console/energy?interval=15m`);
    expect(await page.locator('.chart .uplot').count()).toBe(2);
    expect(await page.textContent('table.consumers')).toContain('Městský bazén');
    await shot('energy');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv-export')]);
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('site_id,site_name,interval_start_utc,energy_kwh,water_m3');
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.some((l) => l.includes('Městský bazén') && l.endsWith(',8,0.1'))).toBe(true);
  });

  it('creates a claim token with a printable QR code, shows the audit log, and speaks Czech', async () => {
    await page.goto(`${server.url}/console/claims`);
    await page.fill('input[name=gatewayName]', 'school-annex');
    await page.click('form[action="/console/claims"] button[type=submit]');
    await page.waitForSelector('#created-token .qr svg');
    expect(await page.getAttribute('#created-token .token', 'data-token')).toMatch(/^brc_/);
    await shot('claims');
    await page.goto(`${server.url}/console/audit`);
    expect(await page.locator('tr[data-action="rollout.create"]').count()).toBe(1);
    expect(await page.locator('tr[data-action="claim.create"]').count()).toBeGreaterThanOrEqual(4);
    await shot('audit');
    await page.click('a.lang');
    await page.waitForSelector('h1:has-text("Auditní záznam")');
    await page.goto(`${server.url}/console/`);
    expect(await page.textContent('h1')).toBe('Flotila');
    await shot('fleet-cs');
  });
});
