import type { ParsedAgentRecord } from '@brana/firmware';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChannelDictionary,
  ChunkDecodeError,
  decodeChunk,
  encodeChunk,
  type JournalRecord,
} from './chunk-codec.ts';

/** An in-memory dictionary with room for `capacity` channels. */
function dictionary(capacity = 1000): ChannelDictionary {
  const byKey = new Map<string, number>();
  const byRef: { channel: string; unit?: string; kind?: 'counter' | 'gauge' | 'status' }[] = [];
  return {
    ref(channel, unit, kind) {
      const key = JSON.stringify([channel, unit, kind]);
      let ref = byKey.get(key);
      if (ref === undefined && byRef.length < capacity) {
        ref = byRef.length;
        byKey.set(key, ref);
        byRef.push({
          channel,
          ...(unit === undefined ? {} : { unit }),
          ...(kind === undefined ? {} : { kind }),
        });
      }
      return ref;
    },
    lookup: (ref) => byRef[ref],
  };
}

const value = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
  fc.float({ noNaN: true, noDefaultInfinity: true }).filter((f) => !Object.is(f, -0)),
  fc.maxSafeInteger(),
  fc.constantFrom(0, 2 ** 52, -(2 ** 53 - 1)),
  fc.string({ maxLength: 20 }),
);

const reading: fc.Arbitrary<ParsedAgentRecord> = fc
  .record(
    {
      channel: fc.constantFrom('m1.energyKWh', 'm2.powerW', 'kotelna.teplotaC', 'ü.x'),
      atMs: fc.oneof(fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.double({ min: 0, max: 2e12, noNaN: true })),
      value,
      quality: fc.constantFrom('good', 'suspect', 'stale', 'uncertain', 'bad'),
      unit: fc.constantFrom('kWh', 'W', '°C'),
      channelKind: fc.constantFrom('counter', 'gauge', 'status'),
      total: fc.oneof(
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
        fc.integer(),
      ),
    },
    { requiredKeys: ['channel', 'atMs', 'value', 'quality'] },
  )
  .map((r) => ({ kind: 'reading' as const, ...r }) as ParsedAgentRecord);

const event: fc.Arbitrary<ParsedAgentRecord> = fc.record({
  kind: fc.constant('event' as const),
  type: fc.constantFrom('preemption.asserted', 'device.status', 'fault'),
  safety: fc.boolean(),
  atMs: fc.integer({ min: 0, max: 2e12 }),
  data: fc
    .dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 3 }))
    .map((d) => JSON.parse(JSON.stringify(d))),
});

const status: fc.Arbitrary<ParsedAgentRecord> = fc.record({
  kind: fc.constant('status' as const),
  atMs: fc.integer({ min: 0, max: 2e12 }),
  counters: fc.dictionary(fc.string({ maxLength: 8 }), fc.integer()),
});

/** Records of a few streams, each stream's seqs rising with gaps, interleaved. */
const records = fc
  .array(
    fc.record({
      stream: fc.constantFrom<[string, number]>(
        ['rt', 1],
        ['fieldbus', 1_712_345_678_901],
        ['fieldbus', 2],
        ['agent', 7],
      ),
      gap: fc.oneof(fc.constant(0), fc.nat(5), fc.nat(1_000_000)),
      record: fc.oneof({ weight: 4, arbitrary: reading }, event, status),
    }),
    { maxLength: 60 },
  )
  .map((items) => {
    const next = new Map<string, number>();
    return items.map(({ stream: [source, bootEpoch], gap, record }): JournalRecord => {
      const key = `${source}:${bootEpoch}`;
      const seq = (next.get(key) ?? 1) + gap;
      next.set(key, seq + 1);
      return { source, bootEpoch, seq, record };
    });
  });

describe('chunk codec', () => {
  it('property: decoding gives back exactly the records encoded', () => {
    fc.assert(
      fc.property(records, fc.integer({ min: 0, max: 5 }), (rs, capacity) => {
        const dict = dictionary(capacity);
        const decoded = decodeChunk(encodeChunk(rs, dict), dict);
        expect(decoded).toEqual(rs);
      }),
      { numRuns: 300 },
    );
  });

  it('a meter reading costs a few bytes: 600 readings of 20 meters in under 7 bytes each', () => {
    const dict = dictionary();
    const rs: JournalRecord[] = [];
    let seq = 1;
    for (let m = 0; m < 20; m++) {
      for (let p = 0; p < 30; p++) {
        rs.push({
          source: 'fieldbus',
          bootEpoch: 1_712_345_678_901,
          seq: seq++,
          record: {
            kind: 'reading',
            channel: `meter-${m}.point${p}`,
            atMs: 1_712_345_700_000 + m * 37,
            value: Math.fround(230 + Math.random() * 10),
            quality: 'good',
            unit: 'V',
          },
        });
      }
    }
    const bytes = encodeChunk(rs, dict).length;
    expect(bytes / rs.length).toBeLessThan(7);
    expect(decodeChunk(encodeChunk(rs, dict), dict)).toEqual(rs);
  });

  it('keeps -0, NaN and infinities of compact readings (JSON, which IPC speaks, has none of them)', () => {
    const dict = dictionary();
    const rs: JournalRecord[] = [-0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY].map(
      (value, i) => ({
        source: 'rt',
        bootEpoch: 1,
        seq: i + 1,
        record: { kind: 'reading', channel: 'a.b', atMs: 5, value, quality: 'good', total: value },
      }),
    );
    expect(decodeChunk(encodeChunk(rs, dict), dict)).toEqual(rs);
  });

  it('events are deflated when that pays', () => {
    const dict = dictionary();
    const rs: JournalRecord[] = Array.from({ length: 50 }, (_, i) => ({
      source: 'rt',
      bootEpoch: 1,
      seq: i + 1,
      record: {
        kind: 'event',
        type: 'preemption.rejected',
        safety: false,
        atMs: 1000 + i,
        data: { reason: 'signature', vehicle: 'forged-unit', approach: 'north' },
      },
    }));
    const chunk = encodeChunk(rs, dict);
    expect(chunk[1]).toBe(1);
    expect(chunk.length).toBeLessThan(JSON.stringify(rs.map((r) => r.record)).length / 4);
    expect(decodeChunk(chunk, dict)).toEqual(rs);
  });

  it('refuses a seq that goes back within a stream', () => {
    const r = (seq: number): JournalRecord => ({
      source: 'rt',
      bootEpoch: 1,
      seq,
      record: { kind: 'status', atMs: 1, counters: {} },
    });
    expect(() => encodeChunk([r(5), r(5)], dictionary())).toThrow(/does not rise/);
  });

  it('property: any damaged byte is a ChunkDecodeError naming the offset, never wrong records', () => {
    fc.assert(
      fc.property(records, fc.nat(), fc.integer({ min: 1, max: 255 }), (rs, where, flip) => {
        fc.pre(rs.length > 0);
        const dict = dictionary();
        const chunk = Buffer.from(encodeChunk(rs, dict));
        const i = where % chunk.length;
        chunk[i] = chunk[i]! ^ flip;
        expect(() => decodeChunk(chunk, dict)).toThrow(ChunkDecodeError);
        expect(() => decodeChunk(chunk, dict)).toThrow(/^chunk byte \d+: /);
      }),
      { numRuns: 300 },
    );
  });

  it('a truncated chunk is refused', () => {
    const dict = dictionary();
    const rs: JournalRecord[] = [
      {
        source: 'rt',
        bootEpoch: 1,
        seq: 1,
        record: { kind: 'reading', channel: 'a.b', atMs: 5, value: 1.5, quality: 'good' },
      },
    ];
    const chunk = encodeChunk(rs, dict);
    expect(() => decodeChunk(chunk.subarray(0, chunk.length - 1), dict)).toThrow(/checksum mismatch/);
    expect(() => decodeChunk(chunk.subarray(0, 3), dict)).toThrow(/shorter than its header/);
  });
});
