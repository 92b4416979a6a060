import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingRecord } from '@brana/protocol';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openFleetDatabase } from '../db/index.ts';
import { TelemetryStore } from './ingest.ts';

const dir = mkdtempSync(join(tmpdir(), 'brana-ingest-'));
const store = openFleetDatabase(join(dir, 'fleet.db'));
const telemetry = new TelemetryStore(store.sqlite);
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function reading(bootEpoch: number, seq: number, ts = seq * 1000, value = seq): ReadingRecord {
  return {
    bootEpoch,
    seq,
    ts,
    channel: 'meter.energyImportKWh',
    value,
    quality: 'good',
    unit: 'kWh',
    kind: 'counter',
  };
}

let nextGateway = 1000;

describe('TelemetryStore.ingest', () => {
  it('stores every record exactly once and acks the highest contiguous seq, whatever the order and repeats', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(
            fc.record({ epoch: fc.integer({ min: 0, max: 2 }), seq: fc.integer({ min: 1, max: 40 }) }),
            { maxLength: 30 },
          ),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        (batches) => {
          const g = nextGateway++;
          const seen = new Map<number, Set<number>>();
          let lastAcks = new Map<number, number>();
          for (const batch of batches) {
            const ack = telemetry.ingest(g, {
              // odd seqs are events, even seqs readings: they share one sequence
              readings: batch.filter((r) => r.seq % 2 === 0).map((r) => reading(r.epoch, r.seq)),
              events: batch
                .filter((r) => r.seq % 2 === 1)
                .map((r) => ({
                  bootEpoch: r.epoch,
                  seq: r.seq,
                  ts: r.seq,
                  kind: 'fault',
                  severity: 'warning' as const,
                  data: {},
                })),
            });
            let fresh = 0;
            for (const r of batch) {
              const s = seen.get(r.epoch) ?? new Set<number>();
              if (!s.has(r.seq)) fresh++;
              s.add(r.seq);
              seen.set(r.epoch, s);
            }
            expect(ack.stored).toBe(fresh);
            expect(ack.duplicates).toBe(batch.length - fresh);
            lastAcks = new Map([...lastAcks, ...ack.acks.map((a) => [a.bootEpoch, a.seq] as const)]);
          }
          for (const [epoch, seqs] of seen) {
            let contiguous = 0;
            while (seqs.has(contiguous + 1)) contiguous++;
            expect(lastAcks.get(epoch)).toBe(contiguous);
            const rows = store.sqlite
              .prepare(
                `SELECT count(*) FROM (SELECT seq FROM readings WHERE gateway_num = ? AND boot_epoch = ?
                 UNION ALL SELECT seq FROM events WHERE gateway_num = ? AND boot_epoch = ?)`,
              )
              .pluck()
              .get(g, epoch, g, epoch);
            expect(rows).toBe(seqs.size);
          }
          expect(telemetry.watermarks(g).map((w) => w.bootEpoch)).toStrictEqual(
            [...seen.keys()].sort((a, b) => a - b),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('advances the ack across a filled gap in one step', () => {
    const g = nextGateway++;
    expect(
      telemetry.ingest(g, { readings: [1, 2, 3, 5, 6].map((s) => reading(7, s)), events: [] }).acks,
    ).toStrictEqual([{ bootEpoch: 7, seq: 3 }]);
    expect(telemetry.ingest(g, { readings: [reading(7, 4)], events: [] }).acks).toStrictEqual([
      { bootEpoch: 7, seq: 6 },
    ]);
  });

  it('keeps a channel’s unit and kind as the last reading that named them, in reading order', () => {
    const units = fc.constantFrom('kWh', 'Wh', undefined);
    const kinds = fc.constantFrom('counter' as const, 'gauge' as const, undefined);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b'), units, kinds), { minLength: 1, maxLength: 12 }),
        (spec) => {
          const g = nextGateway++;
          const readings = spec.map(([channel, unit, kind], i): ReadingRecord => {
            const r: ReadingRecord = { bootEpoch: 1, seq: i + 1, ts: i, channel, value: i, quality: 'good' };
            if (unit !== undefined) r.unit = unit;
            if (kind !== undefined) r.kind = kind;
            return r;
          });
          telemetry.ingest(g, { readings, events: [] });
          for (const key of ['a', 'b']) {
            const mine = readings.filter((r) => r.channel === key);
            const row = store.sqlite
              .prepare('SELECT unit, kind FROM channels WHERE gateway_num = ? AND key = ?')
              .get(g, key);
            if (mine.length === 0) expect(row).toBeUndefined();
            else
              expect(row).toStrictEqual({
                unit: mine.findLast((r) => r.unit !== undefined)?.unit ?? null,
                kind: mine.findLast((r) => r.kind !== undefined)?.kind ?? null,
              });
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('rollups', () => {
  interface Bucket {
    count: number;
    sum: number;
    min: number;
    max: number;
    first: number;
    last: number;
  }
  // The stored rollups of one gateway, and the same figures recomputed from its stored readings.
  const stored = (g: number) =>
    store.sqlite
      .prepare(
        `SELECT c.key || '/' || r.bucket_s || '/' || r.bucket_start AS k, r.count, r.sum, r.min, r.max, r.first, r.last
         FROM rollups r JOIN channels c ON c.id = r.channel_id WHERE c.gateway_num = ? ORDER BY k`,
      )
      .all(g) as (Bucket & { k: string })[];
  const recomputed = (g: number) => {
    const rows = store.sqlite
      .prepare(
        `SELECT c.key, r.ts, r.value FROM readings r JOIN channels c ON c.id = r.channel_id
         WHERE r.gateway_num = ? AND r.value IS NOT NULL AND r.quality < 2 ORDER BY r.ts`,
      )
      .all(g) as { key: string; ts: number; value: number }[];
    const out = new Map<string, Bucket>();
    for (const r of rows) {
      for (const s of [900, 3600, 86400]) {
        const k = `${r.key}/${s}/${Math.floor(r.ts / (s * 1000)) * s * 1000}`;
        const b = out.get(k);
        if (!b)
          out.set(k, { count: 1, sum: r.value, min: r.value, max: r.value, first: r.value, last: r.value });
        else {
          b.count++;
          b.sum += r.value;
          b.min = Math.min(b.min, r.value);
          b.max = Math.max(b.max, r.value);
          b.last = r.value; // rows come in time order
        }
      }
    }
    return [...out].map(([k, b]) => ({ k, ...b })).sort((a, b) => (a.k < b.k ? -1 : 1));
  };

  it('equal a recomputation from the stored readings, whatever the batches, repeats and order', async () => {
    const day0 = Date.UTC(2026, 2, 28, 22); // two hours before a UTC midnight
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            grouped: fc.boolean(),
            records: fc.array(
              fc.record({
                epoch: fc.integer({ min: 0, max: 1 }),
                seq: fc.integer({ min: 1, max: 60 }),
                value: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constant(null)),
                quality: fc.constantFrom('good', 'good', 'uncertain', 'bad'),
              }),
              { maxLength: 40 },
            ),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        async (batches) => {
          const g = nextGateway++;
          // A record's channel and time follow from (epoch, seq), so a repeat is the same record;
          // times spread over four hours and a day boundary, distinct per record.
          const toReading = (r: (typeof batches)[number]['records'][number]): ReadingRecord => ({
            bootEpoch: r.epoch,
            seq: r.seq,
            ts: day0 + (r.epoch * 60 + r.seq) * 119_000,
            channel: `ch${r.seq % 3}`,
            value: r.value,
            quality: r.quality as ReadingRecord['quality'],
          });
          const pending: Promise<unknown>[] = [];
          for (const b of batches) {
            const batch = { readings: b.records.map(toReading), events: [] };
            if (b.grouped) pending.push(telemetry.ingestGrouped(g, batch));
            else {
              await Promise.all(pending.splice(0));
              telemetry.ingest(g, batch);
            }
          }
          await Promise.all(pending);
          const want = recomputed(g);
          const got = stored(g);
          expect(got.map((b) => b.k)).toStrictEqual(want.map((b) => b.k));
          for (let i = 0; i < want.length; i++) {
            const { sum, ...rest } = got[i]!;
            const { sum: wantSum, ...wantRest } = want[i]!;
            expect(rest).toStrictEqual(wantRest);
            expect(sum).toBeCloseTo(wantSum, 9);
          }
        },
      ),
      { numRuns: 80 },
    );
  });
});

describe('TelemetryStore.ingestGrouped', () => {
  const seqsOf = (g: number) =>
    store.sqlite
      .prepare('SELECT seq FROM readings WHERE gateway_num = ? ORDER BY seq')
      .pluck()
      .all(g) as number[];

  it('stores batches of one turn in one commit with the same acks as ingest, one by one', async () => {
    const g = nextGateway++;
    const h = nextGateway++;
    const acks = await Promise.all([
      telemetry.ingestGrouped(g, { readings: [1, 2, 4].map((s) => reading(1, s)), events: [] }),
      telemetry.ingestGrouped(h, { readings: [reading(1, 1)], events: [] }),
      telemetry.ingestGrouped(g, { readings: [2, 3].map((s) => reading(1, s)), events: [] }),
      telemetry.ingestGrouped(g, { readings: [3, 4].map((s) => reading(1, s)), events: [] }),
    ]);
    expect(acks).toStrictEqual([
      { acks: [{ bootEpoch: 1, seq: 2 }], stored: 3, duplicates: 0 },
      { acks: [{ bootEpoch: 1, seq: 1 }], stored: 1, duplicates: 0 },
      { acks: [{ bootEpoch: 1, seq: 4 }], stored: 1, duplicates: 1 },
      { acks: [{ bootEpoch: 1, seq: 4 }], stored: 0, duplicates: 2 },
    ]);
    expect(seqsOf(g)).toStrictEqual([1, 2, 3, 4]);
  });

  it('rolls back only the batch that fails; the others of its turn are stored and acked', async () => {
    const g = nextGateway++;
    const unserialisable = { bootEpoch: 1, seq: 2, ts: 2, kind: 'fault', severity: 'warning' as const };
    const results = await Promise.allSettled([
      telemetry.ingestGrouped(g, { readings: [reading(1, 1)], events: [] }),
      telemetry.ingestGrouped(g, {
        readings: [reading(1, 3)],
        // JSON.stringify throws on a bigint after the reading row went in: that row must go too
        events: [{ ...unserialisable, data: { n: 1n } as Record<string, unknown> }],
      }),
      telemetry.ingestGrouped(g, { readings: [reading(1, 4)], events: [] }),
    ]);
    expect(results.map((r) => r.status)).toStrictEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(seqsOf(g)).toStrictEqual([1, 4]);
    expect(
      await telemetry.ingestGrouped(g, { readings: [2, 3].map((s) => reading(1, s)), events: [] }),
    ).toMatchObject({ acks: [{ bootEpoch: 1, seq: 4 }], stored: 2 });
  });
});

describe('TelemetryStore and other connections', () => {
  it('a failed batch that made a new channel leaves no reading of a later batch under its vanished id', async () => {
    const g = nextGateway++;
    const other = nextGateway++;
    const fresh = (seq: number, channel: string): ReadingRecord => ({ ...reading(1, seq), channel });
    const results = await Promise.allSettled([
      telemetry.ingestGrouped(g, {
        readings: [fresh(1, 'boiler.newPointKWh')],
        events: [
          {
            bootEpoch: 1,
            seq: 2,
            ts: 2,
            kind: 'fault',
            severity: 'warning',
            data: { n: 1n } as Record<string, unknown>,
          },
        ],
      }),
      telemetry.ingestGrouped(g, { readings: [fresh(3, 'boiler.newPointKWh')], events: [] }),
    ]);
    expect(results.map((r) => r.status)).toStrictEqual(['rejected', 'fulfilled']);
    // Every stored reading points at a channel row of its own gateway.
    const orphans = store.sqlite
      .prepare(
        `SELECT count(*) FROM readings r LEFT JOIN channels c ON c.id = r.channel_id
         WHERE r.gateway_num IN (?, ?) AND (c.id IS NULL OR c.gateway_num != r.gateway_num)`,
      )
      .pluck()
      .get(g, other);
    expect(orphans).toBe(0);
    // A channel made afterwards by another gateway does not inherit g's reading.
    await telemetry.ingestGrouped(other, { readings: [fresh(1, 'school.otherKWh')], events: [] });
    const underTheirChannel = store.sqlite
      .prepare(
        'SELECT count(*) FROM readings r JOIN channels c ON c.id = r.channel_id WHERE c.gateway_num = ?',
      )
      .pluck()
      .get(other);
    expect(underTheirChannel).toBe(1);
  });

  it('waits for another connection that holds the write lock instead of failing the batch', async () => {
    // A second process takes the write lock for 300 ms (as a RESTART checkpoint or a backup may).
    const { spawn } = await import('node:child_process');
    const { createRequire } = await import('node:module');
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require(${JSON.stringify(driver)}); const db = new D(${JSON.stringify(join(dir, 'fleet.db'))});
         db.exec('BEGIN IMMEDIATE'); console.log('locked');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300); db.exec('COMMIT'); db.close();`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    const g = nextGateway++;
    const started = Date.now();
    const ack = await telemetry.ingestGrouped(g, { readings: [reading(1, 1)], events: [] });
    expect(ack.stored).toBe(1);
    expect(Date.now() - started).toBeGreaterThan(50); // it did wait for the lock
    expect(telemetry.ingest(g, { readings: [reading(1, 2)], events: [] }).stored).toBe(1);
    await new Promise((r) => holder.once('exit', r));
  });
});
