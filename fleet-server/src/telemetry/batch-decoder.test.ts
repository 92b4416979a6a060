import {
  GATEWAY_TELEMETRY_PATH,
  generateEd25519KeyPair,
  type ReadingRecord,
  signGatewayRequest,
  telemetryBatchSchema,
} from '@brana/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BodySignature, checkBodySignature, decodeTelemetry } from './batch-decoder.ts';
import { telemetryOfParsed, toReadings } from './columns.ts';

const reading: fc.Arbitrary<ReadingRecord> = fc
  .record(
    {
      bootEpoch: fc.integer({ min: 0, max: 2 ** 40 }),
      seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      ts: fc.integer({ min: 0, max: 4e12 }),
      channel: fc.string({ minLength: 1, maxLength: 12 }),
      value: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null)),
      quality: fc.constantFrom('good', 'uncertain', 'bad'),
      unit: fc.constantFrom('kWh', 'W', '', 'm³'),
      kind: fc.constantFrom('counter', 'gauge', 'status'),
    },
    { requiredKeys: ['bootEpoch', 'seq', 'ts', 'channel', 'value', 'quality'] },
  )
  .map((r) => r as ReadingRecord);

const bytes = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8');

describe('decodeTelemetry', () => {
  it('gives back exactly the records of a valid batch, through the columns', () => {
    fc.assert(
      fc.property(fc.array(reading, { maxLength: 60 }), fc.option(fc.string({ maxLength: 64 })), (rs, id) => {
        const message = {
          type: 'telemetry',
          ...(id === null ? {} : { batchId: id }),
          readings: rs,
          events: [],
        };
        const d = decodeTelemetry(bytes(message), 'message');
        expect(d.kind).toBe('readings');
        if (d.kind !== 'readings') return;
        // -0 goes through JSON as 0, as it does for JSON.parse
        expect(toReadings(d.columns)).toEqual(JSON.parse(JSON.stringify(rs)));
        expect(d.batchId).toBe(id === null ? undefined : id);
      }),
    );
  });

  it('takes a body as readings exactly when the schema does, and hands back the rest', () => {
    const body = fc.oneof(
      fc.record({
        readings: fc.array(fc.oneof(reading, fc.anything()), { maxLength: 4 }),
        events: fc.constant([]),
      }),
      fc.record({ readings: fc.array(reading, { maxLength: 3 }), events: fc.constantFrom([], [{}]) }),
      fc.anything(),
    );
    fc.assert(
      fc.property(body, (b) => {
        const text = JSON.stringify(b);
        if (text === undefined) return;
        const d = decodeTelemetry(Buffer.from(text), 'batch');
        const slow = telemetryBatchSchema.safeParse(JSON.parse(text));
        expect(d.kind).toBe(slow.success ? 'readings' : 'other');
        if (d.kind === 'readings' && slow.success)
          expect(toReadings(d.columns)).toEqual(toReadings(telemetryOfParsed(slow.data).columns));
      }),
    );
  });

  it('answers other for bytes that are not JSON, whatever they are', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const d = decodeTelemetry(b, 'batch');
        expect(['readings', 'other']).toContain(d.kind);
      }),
    );
    expect(decodeTelemetry(Buffer.from('{"readings": ['), 'batch').kind).toBe('other');
  });

  it('checks a body’s signature on its bytes: any change, another path, a stale clock or a bad key fails', () => {
    const key = generateEd25519KeyPair();
    const now = 1_800_000_000_000;
    const text = JSON.stringify({ readings: [], events: [] });
    const h = signGatewayRequest('gw_1', 'POST', GATEWAY_TELEMETRY_PATH, text, key.privateKey, now);
    const sig: BodySignature = {
      method: 'POST',
      path: GATEWAY_TELEMETRY_PATH,
      timestamp: h['x-brana-timestamp']!,
      signature: h['x-brana-signature']!,
      publicKey: key.publicKey,
      now,
    };
    expect(checkBodySignature(Buffer.from(text), sig)).toBeNull();
    expect(checkBodySignature(Buffer.from(`${text} `), sig)).toMatch(/signature/);
    expect(checkBodySignature(Buffer.from(text), { ...sig, now: now + 3_600_000 })).toContain(
      'gateway clock',
    );
    expect(checkBodySignature(Buffer.from(text), { ...sig, publicKey: 'not-a-key' })).not.toBeNull();
    expect(checkBodySignature(Buffer.from(text), { ...sig, path: '/elsewhere' })).not.toBeNull();
  });
});
