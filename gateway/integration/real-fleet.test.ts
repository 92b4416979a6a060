// The agent against the real fleet server (startFleetServer, SQLite): enrolment with a claim token
// from the server, signed session, upload of firmware readings and a safety event, each stored once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAgent, validateGatewayConfig } from '@brana/firmware';
import { startFleetServer } from '@brana/fleet-server';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { startGateway } from '../src/agent/index.ts';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function until(cond: () => boolean, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

it('enrols with a server claim token, uploads readings and events exactly once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'brana-real-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'fleet.db');
  const fleet = await startFleetServer({
    dbPath,
    port: 0,
    validateConfig: (c) => validateGatewayConfig(c),
    log: { info() {}, warn() {}, error() {} } as never,
  });
  cleanup.push(() => fleet.close());
  const claim = fleet.createClaimToken({ gatewayName: 'school' });
  const gw = await startGateway({
    dataDir: join(dir, 'gw'),
    serverUrl: fleet.url,
    claimToken: claim.token,
    firmware: { supervise: false },
    localApiPort: 0,
    upload: { tickMs: 20, reconnectMinMs: 50, reconnectMaxMs: 200 },
    log: () => {},
  });
  cleanup.push(() => gw.close());
  expect(gw.status().gatewayId).toMatch(/^gw_/);
  await until(() => gw.link?.stats().state === 'online');

  const fw = connectAgent({ socketPath: gw.socketPath, source: 'fieldbus', queueLimit: 10_000 });
  const rt = connectAgent({ socketPath: gw.socketPath, source: 'rt', queueLimit: 1000 });
  cleanup.push(
    () => fw.close(),
    () => rt.close(),
  );
  const n = 1500;
  for (let i = 1; i <= n; i++) {
    fw.send({
      kind: 'reading',
      channel: 'boiler.energyKWh',
      atMs: Date.now(),
      value: i,
      quality: 'good',
      unit: 'kWh',
      channelKind: 'counter',
    });
  }
  rt.send({
    kind: 'event',
    type: 'preemption.asserted',
    safety: true,
    atMs: Date.now(),
    data: { approach: 'north', vehicle: 'amb-7' },
  });
  await fw.drained();
  await rt.drained();
  await until(() => gw.journal.stats().records === 0);

  const db = new Database(dbPath, { readonly: true });
  cleanup.push(() => db.close());
  const r = db
    .prepare(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT value) AS d, MIN(value) AS lo, MAX(value) AS hi FROM readings',
    )
    .get() as Record<string, number>;
  expect(r).toEqual({ n, d: n, lo: 1, hi: n });
  const e = db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number };
  expect(e.n).toBe(1);
});
