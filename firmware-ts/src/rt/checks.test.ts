import {
  crc16Ccitt,
  type DecodedFrame,
  emptyDecodedFrame,
  encodeSignedFrame,
  type PriorityRequestFields,
  readFrameFields,
  type VehicleKeyPair,
} from '@brana/hardware';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  pointOnApproach,
  TEST_INTERSECTION_ID,
  TEST_KEYS,
  testPreemptionConfig,
} from '../../test/support/rt-fixtures.ts';
import { distanceM, headingDiffDeg, insideCorridor, RequestChecks } from './checks.ts';

const NOW = 1_763_900_000_000;

function fields(over: Partial<PriorityRequestFields> = {}): Omit<PriorityRequestFields, 'keyHint'> {
  return {
    type: 'request',
    role: 'ambulance',
    importance: 10,
    inbound: 1,
    outbound: 3,
    requestId: 1,
    counter: 1,
    intersectionId: TEST_INTERSECTION_ID,
    vehicleId: 77,
    etaS: 20,
    ...pointOnApproach(1, 300),
    headingDeg: 180,
    speedMps: 14,
    generatedMs: NOW,
    ...over,
  };
}

function frame(key: VehicleKeyPair, over: Partial<PriorityRequestFields> = {}) {
  const buf = encodeSignedFrame(fields(over), key.privateKey);
  const f: DecodedFrame = readFrameFields(buf, 0, emptyDecodedFrame());
  return { buf, f };
}

function run(checks: RequestChecks, key: VehicleKeyPair, over: Partial<PriorityRequestFields> = {}, at = 0) {
  const { buf, f } = frame(key, over);
  return checks.check(buf, 0, f, { wallMs: NOW + at, monoMs: 1000 + at });
}

describe('request checks, one test per rejection reason', () => {
  it('accepts a good ambulance request and names its approach and key', () => {
    const c = new RequestChecks(testPreemptionConfig());
    expect(run(c, TEST_KEYS.ambulance)).toBe('ok');
    expect(c.approachIndex).toBe(0);
    expect(c.keyId(c.keyIndex)).toBe('amb-1');
    expect(c.accepted).toBe(1);
  });

  it('forged signature: a frame altered after signing, or signed by an unknown key', () => {
    const c = new RequestChecks(testPreemptionConfig());
    const { buf, f } = frame(TEST_KEYS.ambulance);
    buf[60] = buf[60]! ^ 0x01; // inside the signature
    expect(c.check(buf, 0, f, { wallMs: NOW, monoMs: 1000 })).toBe('signature');
    expect(run(c, TEST_KEYS.stranger)).toBe('signature');
    // The stranger claims the ambulance's key hint: the signature still fails.
    const forged = encodeSignedFrame(
      { ...fields(), keyHint: TEST_KEYS.ambulance.keyHint },
      TEST_KEYS.stranger.privateKey,
    );
    expect(
      c.check(forged, 0, readFrameFields(forged, 0, emptyDecodedFrame()), { wallMs: NOW, monoMs: 1000 }),
    ).toBe('signature');
    expect(c.rejected.signature).toBe(3);
  });

  it('revoked key', () => {
    const c = new RequestChecks(testPreemptionConfig());
    expect(run(c, TEST_KEYS.revoked)).toBe('revoked');
    expect(c.rejected.revoked).toBe(1);
  });

  it('wrong role: a bus key claiming to be an ambulance', () => {
    const c = new RequestChecks(testPreemptionConfig());
    expect(run(c, TEST_KEYS.bus, { role: 'ambulance' })).toBe('role');
    expect(run(c, TEST_KEYS.bus, { role: 'transit' })).toBe('ok');
  });

  it('stale: generated more than freshnessS before or after now', () => {
    const c = new RequestChecks(testPreemptionConfig());
    expect(run(c, TEST_KEYS.ambulance, { generatedMs: NOW - 2001 })).toBe('stale');
    expect(run(c, TEST_KEYS.ambulance, { generatedMs: NOW + 2001, counter: 2 })).toBe('stale');
    expect(run(c, TEST_KEYS.ambulance, { generatedMs: NOW - 1999, counter: 3 })).toBe('ok');
  });

  it('replay: the same or an older counter from the same vehicle', () => {
    const c = new RequestChecks(testPreemptionConfig());
    const { buf, f } = frame(TEST_KEYS.ambulance, { counter: 5 });
    expect(c.check(buf, 0, f, { wallMs: NOW, monoMs: 1000 })).toBe('ok');
    expect(c.check(buf, 0, f, { wallMs: NOW, monoMs: 1200 })).toBe('replay');
    expect(run(c, TEST_KEYS.ambulance, { counter: 4 }, 300)).toBe('replay');
    expect(run(c, TEST_KEYS.ambulance, { counter: 6 }, 400)).toBe('ok');
    // Another vehicle under the same key has its own counter.
    expect(run(c, TEST_KEYS.ambulance, { counter: 1, vehicleId: 78 }, 500)).toBe('ok');
  });

  it('wrong intersection', () => {
    const c = new RequestChecks(testPreemptionConfig());
    expect(run(c, TEST_KEYS.ambulance, { intersectionId: TEST_INTERSECTION_ID + 1 })).toBe('intersection');
  });

  it('out of corridor: wrong heading, too far away, or an unknown approach', () => {
    const c = new RequestChecks(testPreemptionConfig());
    expect(run(c, TEST_KEYS.ambulance, { headingDeg: 0, counter: 1 })).toBe('corridor');
    expect(run(c, TEST_KEYS.ambulance, { ...pointOnApproach(1, 2000), counter: 2 })).toBe('corridor');
    expect(run(c, TEST_KEYS.ambulance, { inbound: 9, counter: 3 })).toBe('corridor');
    // A cancel comes after the stop line, facing elsewhere: still accepted.
    expect(run(c, TEST_KEYS.ambulance, { type: 'cancel', headingDeg: 0, counter: 4 })).toBe('ok');
    expect(c.rejected.corridor).toBe(3);
  });

  it('rate limit per vehicle: a burst beyond the bucket is rejected, then it refills', () => {
    const c = new RequestChecks(testPreemptionConfig({ timing: { ratePerVehiclePerS: 5 } }));
    const results: string[] = [];
    for (let i = 1; i <= 8; i++) results.push(run(c, TEST_KEYS.ambulance, { counter: i }, i));
    expect(results.filter((r) => r === 'ok')).toHaveLength(5);
    expect(results.slice(5)).toEqual(['rate', 'rate', 'rate']);
    expect(run(c, TEST_KEYS.ambulance, { counter: 20 }, 1000)).toBe('ok');
    // A different vehicle has its own bucket.
    expect(run(c, TEST_KEYS.ambulance2, { counter: 1 }, 9)).toBe('ok');
  });

  it('a flood of vehicles beyond the slot table is rejected as rate, old vehicles are forgotten', () => {
    const c = new RequestChecks(testPreemptionConfig(), { maxVehicles: 4 });
    for (let v = 0; v < 4; v++) expect(run(c, TEST_KEYS.ambulance, { vehicleId: v })).toBe('ok');
    expect(run(c, TEST_KEYS.ambulance, { vehicleId: 99 })).toBe('rate');
    expect(run(c, TEST_KEYS.ambulance, { vehicleId: 99, generatedMs: NOW + 5000 }, 5000)).toBe('ok');
  });

  it('checks in the order of the issue: the first failing check is the reason', () => {
    const c = new RequestChecks(testPreemptionConfig());
    // Revoked AND stale AND wrong intersection: revoked comes first.
    expect(run(c, TEST_KEYS.revoked, { generatedMs: NOW - 10_000, intersectionId: 1 })).toBe('revoked');
    // Wrong role AND stale: role first.
    expect(run(c, TEST_KEYS.bus, { role: 'fire', generatedMs: NOW - 10_000 })).toBe('role');
    // Stale AND wrong intersection: stale first.
    expect(run(c, TEST_KEYS.ambulance, { generatedMs: NOW - 10_000, intersectionId: 1 })).toBe('stale');
  });
});

describe('geometry helpers', () => {
  it('heading difference is symmetric and within 0..180', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 360, noNaN: true }),
        fc.double({ min: 0, max: 360, noNaN: true }),
        (a, b) => {
          const d = headingDiffDeg(a, b);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(180);
          expect(Math.abs(d - headingDiffDeg(b, a))).toBeLessThan(1e-9);
        },
      ),
    );
    expect(headingDiffDeg(350, 10)).toBeCloseTo(20);
  });

  it('distance of the approach points matches what they were placed at', () => {
    const p = pointOnApproach(2, 500);
    expect(distanceM(p.latDeg, p.lonDeg, 49.1973, 16.6063)).toBeGreaterThan(495);
    expect(distanceM(p.latDeg, p.lonDeg, 49.1973, 16.6063)).toBeLessThan(505);
  });
});

describe('request checks (property)', () => {
  it('any change to a signed frame, even with a fixed-up CRC, is never accepted', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 113 }),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (at, mask, counter) => {
          const c = new RequestChecks(testPreemptionConfig());
          const buf = encodeSignedFrame(fields({ counter }), TEST_KEYS.ambulance.privateKey);
          buf[at] = buf[at]! ^ mask;
          const crc = crc16Ccitt(buf, 2, 114);
          buf.writeUInt16BE(crc, 114);
          const f = readFrameFields(buf, 0, emptyDecodedFrame());
          expect(c.check(buf, 0, f, { wallMs: NOW, monoMs: 1000 })).not.toBe('ok');
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('request checks: per-vehicle slot table (property, against a plain Map model)', () => {
  // The slot table is an open-addressing hash over (key, vehicle id) with backward-shift deletion
  // when a silent vehicle's slot is taken over. The model keeps the same rules with a Map.
  it('replay and flood verdicts match the model through slot reuse', () => {
    const keys = [TEST_KEYS.ambulance, TEST_KEYS.ambulance2] as const;
    const opArb = fc.record({
      key: fc.integer({ min: 0, max: 1 }),
      // Few ids, so that vehicles come back after their slot was given away, and colliding ids.
      vehicleId: fc.constantFrom(1, 2, 3, 17, 33, 49, 0xffff_ffff, 65, 81),
      counterStep: fc.integer({ min: -2, max: 3 }),
      dtMs: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 3000, max: 6000 })),
    });
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 60 }), (ops) => {
        const maxVehicles = 4;
        const freshnessMs = 2000;
        const c = new RequestChecks(testPreemptionConfig({ timing: { ratePerVehiclePerS: 100 } }), {
          maxVehicles,
        });
        // Model: slot i holds [id, lastCounter, lastSeenMs].
        const slots: { id: string; counter: number; seen: number }[] = [];
        const counters = new Map<string, number>();
        let mono = 1000;
        for (const op of ops) {
          mono += op.dtMs;
          const id = `${op.key}/${op.vehicleId}`;
          const counter = Math.max(0, (counters.get(id) ?? 10) + op.counterStep);
          counters.set(id, counter);
          let slot = slots.findIndex((s) => s.id === id);
          let expected: string;
          if (slot < 0 && slots.length < maxVehicles) {
            slot = slots.push({ id, counter: -1, seen: mono }) - 1;
          } else if (slot < 0) {
            let oldest = Number.POSITIVE_INFINITY;
            slots.forEach((s, i) => {
              if (s.seen < mono - 2 * freshnessMs && s.seen < oldest) {
                oldest = s.seen;
                slot = i;
              }
            });
            if (slot >= 0) slots[slot] = { id, counter: -1, seen: mono };
          }
          if (slot < 0) expected = 'rate';
          else if (counter <= slots[slot]!.counter) expected = 'replay';
          else {
            slots[slot]!.counter = counter;
            slots[slot]!.seen = mono;
            expected = 'ok';
          }
          const { buf, f } = frame(keys[op.key]!, {
            vehicleId: op.vehicleId,
            counter,
            generatedMs: NOW + mono,
          });
          expect(c.check(buf, 0, f, { wallMs: NOW + mono, monoMs: mono })).toBe(expected);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('corridor test written out for the hot path (property)', () => {
  it('agrees with headingDiffDeg and distanceM', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 35_999 }),
        fc.integer({ min: 490_000_000, max: 494_000_000 }),
        fc.integer({ min: 164_000_000, max: 168_000_000 }),
        fc.double({ min: 0, max: 359.99, noNaN: true }),
        fc.double({ min: 1, max: 90, noNaN: true }),
        fc.double({ min: 10, max: 5000, noNaN: true }),
        (headingCd, latE7, lonE7, headingDeg, toleranceDeg, radiusM) => {
          const f = { ...emptyDecodedFrame(), headingCd, latE7, lonE7 };
          const c = { headingDeg, toleranceDeg, latDeg: 49.1973, lonDeg: 16.6063, radiusM };
          const reference =
            headingDiffDeg(headingCd / 100, headingDeg) <= toleranceDeg &&
            distanceM(latE7 / 1e7, lonE7 / 1e7, c.latDeg, c.lonDeg) <= radiusM;
          expect(insideCorridor(f, c)).toBe(reference);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
