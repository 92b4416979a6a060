import type { ParsedAgentRecord } from '@brana/firmware';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admit, type Bucket, type ClassQuota, classify, isUrgent, matchesType } from './classes.ts';

const event = (type: string, extra: Partial<Extract<ParsedAgentRecord, { kind: 'event' }>> = {}) =>
  ({ kind: 'event', type, safety: false, atMs: 1, data: {}, ...extra }) as ParsedAgentRecord;

describe('record classes', () => {
  it('puts what matters where it is never dropped, and floods where a quota holds them', () => {
    expect(classify({ kind: 'reading', channel: 'a.b', atMs: 1, value: 1, quality: 'good' })).toBe('reading');
    expect(classify({ kind: 'status', atMs: 1, counters: {} })).toBe('bulk');
    expect(classify(event('preemption.asserted', { safety: true }))).toBe('critical');
    expect(classify(event('preemption.released', { safety: true }))).toBe('critical');
    expect(classify(event('preemption.fault'))).toBe('critical');
    expect(classify(event('relay.readback-mismatch'))).toBe('critical');
    expect(classify(event('alarm.raised'))).toBe('critical');
    expect(classify(event('fieldbus.fault'))).toBe('critical');
    expect(classify(event('fieldbus.interval'))).toBe('critical');
    expect(classify(event('something.new', { severity: 'critical' }))).toBe('critical');
    // A rejection flagged safety-relevant is still a flood candidate, not an assertion.
    expect(classify(event('preemption.rejected', { safety: true }))).toBe('bulk');
    expect(classify(event('device.status'))).toBe('event');
    expect(classify(event('flows.drift'))).toBe('event');
  });

  it('writes safety events, alarms and faults at once, the rest with the next group', () => {
    expect(isUrgent(event('preemption.asserted', { safety: true }))).toBe(true);
    expect(isUrgent(event('alarm.raised'))).toBe(true);
    expect(isUrgent(event('fault'))).toBe(true);
    expect(isUrgent(event('fieldbus.interval'))).toBe(false);
    expect(isUrgent(event('fieldbus.fault'))).toBe(false);
    expect(isUrgent(event('preemption.rejected', { safety: true }))).toBe(false);
    expect(isUrgent({ kind: 'reading', channel: 'a.b', atMs: 1, value: 1, quality: 'good' })).toBe(false);
  });

  it('type patterns: exact, prefix.* and *.suffix', () => {
    expect(matchesType('alarm.raised', ['alarm.*'])).toBe(true);
    expect(matchesType('alarms', ['alarm.*'])).toBe(false);
    expect(matchesType('fieldbus.fault', ['*.fault'])).toBe(true);
    expect(matchesType('fault', ['*.fault'])).toBe(false);
    expect(matchesType('fault', ['fault'])).toBe(true);
  });
});

describe('quota', () => {
  const quota: ClassQuota = { perMinute: 60, burst: 10, held: 1000 };

  it('takes a burst, then the rate, and says why it refused', () => {
    let b: Bucket | undefined;
    let taken = 0;
    for (let i = 0; i < 20; i++) {
      const a = admit(b, quota, 0, 0);
      b = a.bucket;
      if (a.admitted) taken++;
      else expect(a.reason).toBe('rate');
    }
    expect(taken).toBe(10);
    // One per second refills.
    expect(admit(b, quota, 999, 0).admitted).toBe(false);
    expect(admit(b, quota, 1000, 0).admitted).toBe(true);
    const full = admit(undefined, quota, 0, 1000);
    expect(full).toMatchObject({ admitted: false, reason: 'held' });
  });

  it('property: in any window no more than burst + rate × window is taken, and never past the cap', () => {
    fc.assert(
      fc.property(
        fc.record({
          perMinute: fc.integer({ min: 1, max: 6000 }),
          burst: fc.integer({ min: 1, max: 500 }),
          held: fc.integer({ min: 0, max: 50 }),
        }),
        fc.array(fc.record({ dt: fc.nat(5000), held: fc.nat(60) }), { maxLength: 300 }),
        (q, steps) => {
          let b: Bucket | undefined;
          let now = 0;
          const takenAt: number[] = [];
          for (const s of steps) {
            now += s.dt;
            const a = admit(b, q, now, s.held);
            b = a.bucket;
            expect(b.tokens).toBeGreaterThanOrEqual(0);
            expect(b.tokens).toBeLessThanOrEqual(q.burst);
            if (a.admitted) {
              expect(s.held).toBeLessThan(q.held);
              takenAt.push(now);
            }
          }
          for (let i = 0; i < takenAt.length; i++) {
            for (let j = i; j < takenAt.length; j++) {
              const window = takenAt[j]! - takenAt[i]!;
              expect(j - i + 1).toBeLessThanOrEqual(q.burst + (window * q.perMinute) / 60_000 + 1e-9);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a clock that goes back never mints tokens', () => {
    const a = admit({ tokens: 0, atMs: 10_000 }, quota, 5000, 0);
    expect(a.admitted).toBe(false);
    expect(admit(a.bucket, quota, 10_999, 0).admitted).toBe(false);
    expect(admit(a.bucket, quota, 11_000, 0).admitted).toBe(true);
  });
});
