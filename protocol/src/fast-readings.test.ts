import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidReading } from './fast-readings.ts';
import { readingRecordSchema } from './messages.ts';

const nearValid = fc.record(
  {
    bootEpoch: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.double(), fc.constant('1')),
    seq: fc.oneof(fc.integer({ min: -1, max: 5 }), fc.double({ min: 0, max: 3 }), fc.constant(2 ** 60)),
    ts: fc.oneof(fc.integer({ min: -1, max: 2e12 }), fc.constant(Number.NaN)),
    channel: fc.oneof(fc.string({ maxLength: 3 }), fc.constant('x'.repeat(201)), fc.constant(5)),
    value: fc.oneof(fc.double(), fc.constant(null), fc.constant(Number.POSITIVE_INFINITY), fc.constant('1')),
    quality: fc.constantFrom('good', 'uncertain', 'bad', 'excellent', 1),
    unit: fc.oneof(fc.constant('kWh'), fc.constant('x'.repeat(33)), fc.constant(7)),
    kind: fc.constantFrom('counter', 'gauge', 'status', 'other'),
    extra: fc.constant(1),
  },
  { requiredKeys: [] },
);

describe('isValidReading', () => {
  it('agrees with readingRecordSchema on near-valid and arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(nearValid, fc.anything()), (r) => {
        expect(isValidReading(r)).toBe(readingRecordSchema.safeParse(r).success);
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts a plain valid reading', () => {
    expect(isValidReading({ bootEpoch: 0, seq: 1, ts: 0, channel: 'a', value: null, quality: 'bad' })).toBe(
      true,
    );
  });
});
