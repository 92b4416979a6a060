import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SequencedRecord } from '@brana/firmware';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { History } from './history.ts';
import { channelPatterns } from './patterns.ts';
import { openLocalStore } from './store.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'brana-history-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

let seq = 0;
const reading = (
  channel: string,
  atMs: number,
  value: number | null,
  extra: object = {},
): SequencedRecord => ({
  source: 'fieldbus',
  bootEpoch: 1,
  seq: ++seq,
  record: { kind: 'reading', channel, atMs, value, quality: 'good', unit: 'ppm', ...extra },
});
const interval = (
  channel: string,
  startMs: number,
  delta: number,
  quality = 'complete',
): SequencedRecord => ({
  source: 'fieldbus',
  bootEpoch: 1,
  seq: ++seq,
  record: {
    kind: 'event',
    type: 'fieldbus.interval',
    safety: false,
    atMs: startMs + 900_000,
    data: { channel, startMs, endMs: startMs + 900_000, delta, unit: 'kWh', quality },
  },
});

const DAY = Date.parse('2025-06-01T22:00:00Z'); // 2 June 2025, 00:00 in Prague
const QH = 900_000;

function open(now = DAY + 86_400_000) {
  const { db } = openLocalStore(join(dir, 'local-api.db'));
  return { db, history: new History(db, { nowMs: () => now }) };
}

describe('History', () => {
  it('sums quarter-hour intervals into hours and local days; a gap stays a gap', () => {
    const { db, history } = open();
    // 2 June: every quarter hour 0.25 kWh except 10:00-11:00 local (missing) and one estimated.
    const records: SequencedRecord[] = [];
    for (let q = 0; q < 96; q++) {
      if (q >= 40 && q < 44) continue;
      records.push(
        interval('main-meter.energyImportKWh', DAY + q * QH, 0.25, q === 50 ? 'estimated' : 'complete'),
      );
    }
    history.observe(records);
    history.flush();
    const day = history.range(
      'main-meter.energyImportKWh',
      DAY,
      DAY + 86_400_000,
      '1d',
      'Europe/Prague',
      10,
    )!;
    expect(day.kind).toBe('counter');
    expect(day.unit).toBe('kWh');
    expect(day.buckets).toEqual([
      {
        startMs: DAY,
        endMs: DAY + 86_400_000,
        delta: 92 * 0.25,
        quality: 'partial',
        quarters: 96,
        known: 92,
      },
    ]);
    const hours = history.range(
      'main-meter.energyImportKWh',
      DAY,
      DAY + 86_400_000,
      '1h',
      'Europe/Prague',
      100,
    )!;
    expect(hours.buckets).toHaveLength(24);
    expect(hours.buckets[10]).toMatchObject({ delta: null, quality: 'missing', known: 0 });
    expect(hours.buckets[12]).toMatchObject({ delta: 1, quality: 'estimated', known: 4 });
    expect(hours.buckets[13]).toMatchObject({ delta: 1, quality: 'complete' });
    db.close();
  });

  it('a counter total is the same whichever step sums it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (deltas) => {
          const { db, history } = open();
          history.observe(deltas.map((d, q) => interval('m.energyKWh', DAY + q * QH, d)));
          history.flush();
          const total = deltas.reduce((a, b) => a + b, 0);
          for (const step of ['15m', '1h', '1d'] as const) {
            const r = history.range(
              'm.energyKWh',
              DAY,
              DAY + deltas.length * QH,
              step,
              'Europe/Prague',
              1000,
            )!;
            const sum = r.buckets.reduce((a, b) => a + ((b as { delta: number | null }).delta ?? 0), 0);
            expect(sum).toBeCloseTo(total, 6);
          }
          db.close();
          rmSync(join(dir, 'local-api.db'), { force: true });
          rmSync(join(dir, 'local-api.db-wal'), { force: true });
          rmSync(join(dir, 'local-api.db-shm'), { force: true });
        },
      ),
      { numRuns: 25 },
    );
  });

  it('gauges keep avg, min and max per quarter hour, and go on after a restart', () => {
    let { db, history } = open();
    history.observe([
      reading('classroom.co2Ppm', DAY + 1000, 400),
      reading('classroom.co2Ppm', DAY + 2000, 800),
      reading('classroom.co2Ppm', DAY + 3000, null, { quality: 'bad' }),
      reading('classroom.co2Ppm', DAY + QH + 10, 1200),
    ]);
    history.flush();
    db.close();
    ({ db, history } = open());
    history.observe([reading('classroom.co2Ppm', DAY + 4000, 600)]);
    const r = history.range('classroom.co2Ppm', DAY, DAY + 2 * QH, '15m', 'Europe/Prague', 10)!;
    expect(r).toEqual({
      kind: 'gauge',
      unit: 'ppm',
      buckets: [
        { startMs: DAY, endMs: DAY + QH, avg: 600, min: 400, max: 800, samples: 3 },
        { startMs: DAY + QH, endMs: DAY + 2 * QH, avg: 1200, min: 1200, max: 1200, samples: 1 },
      ],
    });
    db.close();
  });

  it('keeps the newest last value per channel across a restart, bad ones included', () => {
    let { db, history } = open();
    history.observe([
      reading('a.co2Ppm', DAY + 5, 410),
      reading('a.co2Ppm', DAY + 1, 999), // older, arrived later: not the last value
      reading('b.flowM3H', DAY + 7, null, { quality: 'bad', unit: 'm³/h' }),
    ]);
    history.flush();
    db.close();
    ({ db, history } = open());
    expect(history.last(channelPatterns(['*/*']), 10)).toEqual([
      {
        channel: 'a.co2Ppm',
        topic: 'a/co2Ppm',
        value: 410,
        quality: 'good',
        unit: 'ppm',
        kind: undefined,
        atMs: DAY + 5,
      },
      {
        channel: 'b.flowM3H',
        topic: 'b/flowM3H',
        value: null,
        quality: 'bad',
        unit: 'm³/h',
        kind: undefined,
        atMs: DAY + 7,
      },
    ]);
    expect(history.last(channelPatterns(['b/*']), 10).map((v) => v.topic)).toEqual(['b/flowM3H']);
    db.close();
  });

  it('forgets rollups older than the retention', () => {
    const { db } = openLocalStore(join(dir, 'local-api.db'));
    const history = new History(db, { retentionDays: 1, nowMs: () => DAY + 3 * 86_400_000 });
    history.observe([interval('m.energyKWh', DAY, 1), interval('m.energyKWh', DAY + 2 * 86_400_000 + QH, 2)]);
    history.flush();
    const r = history.range('m.energyKWh', DAY, DAY + 3 * 86_400_000, '1d', 'Europe/Prague', 10)!;
    expect(r.buckets.map((b) => (b as { delta: number | null }).delta)).toEqual([null, null, 2]);
    db.close();
  });

  it('refuses a range with more buckets than allowed', () => {
    const { db, history } = open();
    expect(history.range('m.x', DAY, DAY + 86_400_000, '15m', 'Europe/Prague', 95)).toBeUndefined();
    db.close();
  });
});
