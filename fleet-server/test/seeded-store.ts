// A database for query tests: one school with one gateway whose kWh counter rose 1 kWh a minute for
// three hours (with a resent batch of duplicates), and three events a few ms after the start.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingRecord } from '@brana/protocol';
import { openFleetDatabase } from '../src/db/index.ts';
import { TelemetryStore } from '../src/telemetry/index.ts';

export const SEED_START = Date.UTC(2026, 0, 5, 0, 0, 0);
export const SEED_GATEWAY = 'gw_querytest01';

export function seededStore() {
  const dir = mkdtempSync(join(tmpdir(), 'brana-queries-'));
  const store = openFleetDatabase(join(dir, 'fleet.db'));
  const telemetry = new TelemetryStore(store.sqlite);
  const now = SEED_START;
  store.sqlite
    .prepare("INSERT INTO sites (id, name, kind, created_at) VALUES ('site_q', 'School', 'building', 0)")
    .run();
  store.sqlite
    .prepare(
      "INSERT INTO gateways (id, num, name, site_id, public_key, status, enrolled_at) VALUES (?, 1, 'q', 'site_q', 'k', 'active', 0)",
    )
    .run(SEED_GATEWAY);
  const rs: ReadingRecord[] = [];
  for (let i = 0; i < 180; i++) {
    const value = 1000 + i;
    rs.push({
      bootEpoch: 1,
      seq: i + 1,
      ts: now + i * 60_000,
      channel: 'meter.energyImportKWh',
      value,
      quality: 'good',
      unit: 'kWh',
      kind: 'counter',
    });
  }
  telemetry.ingest(1, { readings: rs, events: [] });
  telemetry.ingest(1, { readings: rs.slice(0, 50), events: [] });
  telemetry.ingest(1, {
    readings: [],
    events: [
      {
        bootEpoch: 1,
        seq: 181,
        ts: now + 5,
        kind: 'preemption.asserted',
        severity: 'info',
        data: { approach: 2 },
      },
      { bootEpoch: 1, seq: 182, ts: now + 6, kind: 'preemptionx', severity: 'info', data: {} },
      { bootEpoch: 1, seq: 183, ts: now + 7, kind: 'fault', severity: 'critical', data: {} },
    ],
  });
  return {
    sqlite: store.sqlite,
    close() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
