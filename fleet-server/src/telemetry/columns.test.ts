import {
  encodeReadingColumns,
  MAX_BATCH_RECORDS,
  type ReadingRecord,
  readingColumnsSchema,
  readingsFromColumns,
  telemetryBatchSchema,
  telemetryMessageSchema,
} from '@brana/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnsFromRecords, decodeTelemetryValue, telemetryOfParsed, toReadings } from './columns.ts';

// Few channel names and units, so that batches repeat channels and change their metadata.
const reading: fc.Arbitrary<ReadingRecord> = fc
  .record(
    {
      bootEpoch: fc.integer({ min: 0, max: 3 }),
      seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      ts: fc.integer({ min: 0, max: 4e12 }),
      channel: fc.constantFrom('a', 'b', 'meter1.energyImportKWh', 'ü'),
      value: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null)),
      quality: fc.constantFrom('good', 'uncertain', 'bad'),
      unit: fc.constantFrom('kWh', 'W', ''),
      kind: fc.constantFrom('counter', 'gauge', 'status'),
    },
    { requiredKeys: ['bootEpoch', 'seq', 'ts', 'channel', 'value', 'quality'] },
  )
  .map((r) => ({ ...r }) as ReadingRecord);

/** What JSON makes of a value (-0 becomes 0, undefined keys vanish). */
const viaJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** A column batch the schema accepts, then maybe one thing wrong with it. */
const nearValidColumns = fc
  .tuple(
    fc.array(reading, { maxLength: 8 }),
    fc.oneof(
      { arbitrary: fc.constant('none'), weight: 1 },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'short-column',
          'index-out-of-range',
          'negative-seq',
          'fractional-ts',
          'quality-3',
          'quality-string',
          'value-string',
          'value-infinite',
          'channel-extra-key',
          'channel-empty-key',
          'channel-bad-kind',
          'unknown-column',
          'missing-column',
          'not-array',
        ),
      },
    ),
    fc.nat(),
  )
  .map(([rs, fault, at]) => {
    const c = encodeReadingColumns(rs) as Record<string, unknown[]> & { channels: Record<string, unknown>[] };
    const n = rs.length;
    const i = n === 0 ? 0 : at % n;
    const set = (col: string, v: unknown) => {
      if (n > 0) c[col]![i] = v;
    };
    switch (fault) {
      case 'short-column':
        c.ts = c.ts!.slice(1);
        break;
      case 'index-out-of-range':
        set('channel', c.channels.length);
        break;
      case 'negative-seq':
        set('seq', -1);
        break;
      case 'fractional-ts':
        set('ts', 1.5);
        break;
      case 'quality-3':
        set('quality', 3);
        break;
      case 'quality-string':
        set('quality', 'good');
        break;
      case 'value-string':
        set('value', '1');
        break;
      case 'value-infinite':
        set('value', Number.POSITIVE_INFINITY);
        break;
      case 'channel-extra-key':
        if (c.channels.length > 0) c.channels[0]!.extra = 1;
        break;
      case 'channel-empty-key':
        if (c.channels.length > 0) c.channels[0]!.key = '';
        break;
      case 'channel-bad-kind':
        if (c.channels.length > 0) c.channels[0]!.kind = 'meter';
        break;
      case 'unknown-column':
        (c as Record<string, unknown>).unit = [];
        break;
      case 'missing-column':
        delete (c as Record<string, unknown>).quality;
        break;
      case 'not-array':
        (c as Record<string, unknown>).seq = {};
        break;
    }
    return c as unknown;
  });

describe('reading columns on the wire', () => {
  it('encode and decode give back the records, and the schema accepts every encoding', () => {
    fc.assert(
      fc.property(fc.array(reading, { maxLength: 40 }), (rs) => {
        const wire = viaJson(encodeReadingColumns(rs));
        expect(readingColumnsSchema.safeParse(wire).success).toBe(true);
        expect(readingsFromColumns(wire)).toStrictEqual(viaJson(rs));
        expect(toReadings(columnsFromRecords(rs))).toStrictEqual(rs);
      }),
    );
  });

  it('are about a third of the bytes of the same readings as records', () => {
    const rs = Array.from(
      { length: 500 },
      (_, i): ReadingRecord => ({
        bootEpoch: 1,
        seq: 1000 + i,
        ts: 1_800_000_000_000 + Math.floor(i / 32) * 10_000,
        channel: `meter${i % 8}.powerW`,
        value: i * 0.5,
        quality: 'good',
      }),
    );
    const ratio = JSON.stringify(encodeReadingColumns(rs)).length / JSON.stringify(rs).length;
    expect(ratio).toBeLessThan(0.4);
  });

  it('names the column and entry that is wrong', () => {
    const wire = encodeReadingColumns([
      { bootEpoch: 1, seq: 1, ts: 5, channel: 'a', value: 1, quality: 'good' },
      { bootEpoch: 1, seq: 2, ts: 6, channel: 'a', value: 2, quality: 'good' },
    ]);
    const paths = (v: unknown) =>
      readingColumnsSchema.safeParse(v).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(paths({ ...wire, channel: [0, 3] })).toStrictEqual([
      'channel.1: points at channels[3], but channels has 1 entry; add that channel to channels or fix the index',
    ]);
    // Whichever column is short, every length is named.
    expect(paths({ ...wire, seq: [1] })).toStrictEqual([
      ': every column needs one entry per reading, but seq has 1, channel has 2, bootEpoch has 2, ts has 2, value has 2, quality has 2',
    ]);
    expect(paths({ ...wire, quality: [0, 3] })).toStrictEqual([
      'quality.1: expected a quality code: 0 good, 1 uncertain, 2 bad',
    ]);
  });
});

describe('decodeTelemetryValue', () => {
  const event = { bootEpoch: 1, seq: 9, ts: 5, kind: 'alarm.raised', severity: 'warning', data: { line: 5 } };
  // Mostly valid parts, so that a good share of bodies is accepted and the rest fail one way.
  const often = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
    fc.oneof({ arbitrary: good, weight: 4 }, { arbitrary: bad, weight: 1 });
  const body = fc
    .record(
      {
        type: often(fc.constant('telemetry'), fc.constantFrom('hello', 5)),
        batchId: often(fc.string({ maxLength: 64 }), fc.oneof(fc.string({ minLength: 65 }), fc.constant(3))),
        readings: often(
          fc.array(reading, { maxLength: 3 }),
          fc.oneof(fc.array(fc.anything(), { minLength: 1, maxLength: 2 }), fc.constant('x')),
        ),
        columns: often(nearValidColumns, fc.anything()),
        events: often(
          fc.constantFrom([], [event], [{ ...event, data: undefined }]),
          fc.constantFrom([{}], 'x', [{ ...event, kind: 'Bad Kind' }]),
        ),
      },
      { requiredKeys: [] },
    )
    // Now and then a key neither schema knows.
    .chain((b) => fc.constantFrom(b, b, b, b, b, b, b, b, b, { ...b, other: 1 }));

  it('takes exactly what the schemas take, with the same readings, events and batch id', () => {
    fc.assert(
      fc.property(body, fc.integer({ min: 0, max: 9 }), (message, dice) => {
        // An HTTP body has no type or batch id; now and then one comes with them anyway.
        const { type: _t, batchId: _b, ...batch } = message as Record<string, unknown>;
        for (const [shape, schema, b] of [
          ['batch', telemetryBatchSchema, dice === 0 ? message : batch],
          ['message', telemetryMessageSchema, message],
        ] as const) {
          const fast = decodeTelemetryValue(b, shape);
          const slow = schema.safeParse(b);
          expect(fast.kind).toBe(slow.success ? 'readings' : 'other');
          if (fast.kind !== 'readings' || !slow.success) continue;
          const data = slow.data as Parameters<typeof telemetryOfParsed>[0] & {
            events: unknown[];
            batchId?: string;
          };
          expect(toReadings(fast.columns)).toStrictEqual(toReadings(telemetryOfParsed(data).columns));
          expect(fast.events).toStrictEqual(data.events);
          expect(fast.batchId).toBe(data.batchId);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('takes a batch of exactly MAX_BATCH_RECORDS records and not one more, events counted', () => {
    const rs = Array.from(
      { length: MAX_BATCH_RECORDS },
      (_, i): ReadingRecord => ({ bootEpoch: 1, seq: i + 1, ts: i, channel: 'a', value: i, quality: 'good' }),
    );
    const batch = (n: number, events: unknown[]) => ({
      columns: encodeReadingColumns(rs.slice(0, n)),
      events,
    });
    for (const [b, ok] of [
      [batch(MAX_BATCH_RECORDS, []), true],
      [batch(MAX_BATCH_RECORDS - 1, [event]), true],
      [batch(MAX_BATCH_RECORDS - 1, [event, { ...event, seq: 10 }]), false],
    ] as const) {
      expect(decodeTelemetryValue(b, 'batch').kind).toBe(ok ? 'readings' : 'other');
      expect(telemetryBatchSchema.safeParse(b).success).toBe(ok);
    }
  });

  it('decodes column batches into the records they were encoded from', () => {
    fc.assert(
      fc.property(fc.array(reading, { maxLength: 60 }), fc.boolean(), (rs, withEvent) => {
        const msg = viaJson({
          type: 'telemetry',
          batchId: 'b1',
          columns: encodeReadingColumns(rs),
          events: withEvent ? [event] : [],
        });
        const d = decodeTelemetryValue(msg, 'message');
        expect(d.kind).toBe('readings');
        if (d.kind !== 'readings') return;
        expect(toReadings(d.columns)).toStrictEqual(viaJson(rs));
        expect(d.events).toStrictEqual(withEvent ? [event] : []);
      }),
    );
  });
});
