import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ReadingRecord } from '@brana/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { FleetBusEvents } from '../core/index.ts';
import { type FleetDatabase, openFleetDatabase } from '../db/index.ts';
import { TelemetryStore } from '../telemetry/index.ts';
import { CounterCache } from './counter-cache.ts';
import { counterPerSite } from './counters.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 1);

describe('CounterCache', () => {
  let database: FleetDatabase;
  afterEach(() => {
    database.close();
    rmSync(dirname(database.path), { recursive: true, force: true });
  });

  it('answers like the query, reads closed days once, and forgets them when late readings arrive', () => {
    database = openFleetDatabase(join(mkdtempSync(join(tmpdir(), 'brana-console-')), 'fleet.db'));
    const sqlite = database.sqlite;
    sqlite
      .prepare(`INSERT INTO sites (id, name, kind, created_at) VALUES ('s1', 'school', 'building', 0)`)
      .run();
    sqlite
      .prepare(
        `INSERT INTO gateways (id, num, name, site_id, public_key, status, enrolled_at) VALUES ('g1', 1, 'g', 's1', 'k', 'active', 0)`,
      )
      .run();
    const store = new TelemetryStore(sqlite);
    let seq = 0;
    const reading = (ts: number, value: number): ReadingRecord => ({
      bootEpoch: 1,
      seq: ++seq,
      ts,
      channel: 'm.energyKWh',
      value,
      quality: 'good',
      unit: 'kWh',
      kind: 'counter',
    });
    const bus = new EventEmitter<FleetBusEvents>();
    const ingest = (readings: ReadingRecord[]) => {
      store.ingest(1, { readings, events: [] });
      bus.emit('telemetry', { gatewayId: 'g1', readings, events: [] });
    };
    ingest(Array.from({ length: 10 }, (_, d) => reading(T0 + d * DAY + 3_600_000, 100 + d * 10)));
    let now = T0 + 9 * DAY + 7_200_000;
    const cache = new CounterCache(sqlite, { bus, now: () => now });
    const q = { units: ['kWh'], bucketS: 86400 as const, from: T0, to: T0 + 10 * DAY };
    const direct = counterPerSite(sqlite, q);
    expect(cache.get(q)).toStrictEqual(direct);
    expect(cache.get(q)).toStrictEqual(direct);
    expect([cache.misses, cache.hits]).toStrictEqual([1, 1]);
    // A reading for today leaves closed days alone; a late one for day 3 drops them.
    ingest([reading(T0 + 9 * DAY + 7_000_000, 195)]);
    expect(cache.get(q)).toStrictEqual(counterPerSite(sqlite, q));
    expect(cache.hits).toBe(2);
    ingest([reading(T0 + 3 * DAY + 7_200_000, 135)]);
    expect(cache.get(q)).toStrictEqual(counterPerSite(sqlite, q));
    expect(cache.misses).toBe(2);
    // As days pass, the closed part grows and is read afresh.
    now += DAY;
    expect(cache.get(q)).toStrictEqual(counterPerSite(sqlite, q));
    expect(cache.misses).toBe(3);
  });
});
