import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BackoffPolicy, restartDelay } from './backoff.ts';

const policyArb = fc
  .record({ minMs: fc.integer({ min: 1, max: 5000 }), span: fc.integer({ min: 0, max: 120_000 }) })
  .chain(({ minMs, span }) =>
    fc.record({
      minMs: fc.constant(minMs),
      maxMs: fc.constant(minMs + span),
      stableAfterMs: fc.integer({ min: 1, max: 600_000 }),
    }),
  );

describe('restartDelay', () => {
  it('property: every delay lies within [minMs, maxMs], whatever the run times', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.array(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 50 }),
        (p, runs) => {
          let pending = p.minMs;
          for (const ran of runs) {
            const { delayMs, nextMs } = restartDelay(pending, ran, p);
            expect(delayMs).toBeGreaterThanOrEqual(p.minMs);
            expect(delayMs).toBeLessThanOrEqual(p.maxMs);
            expect(nextMs).toBeLessThanOrEqual(p.maxMs);
            pending = nextMs;
          }
        },
      ),
    );
  });

  it('property: a crash loop never restarts faster than the exit before, and reaches maxMs', () => {
    fc.assert(
      fc.property(policyArb, (p: BackoffPolicy) => {
        let pending = p.minMs;
        let last = 0;
        for (let i = 0; i < 40; i++) {
          const { delayMs, nextMs } = restartDelay(pending, 0, p);
          expect(delayMs).toBeGreaterThanOrEqual(last);
          last = delayMs;
          pending = nextMs;
        }
        expect(last).toBe(p.maxMs);
      }),
    );
  });

  it('a process that ran past stableAfterMs restarts after minMs again', () => {
    const p = { minMs: 500, maxMs: 30_000, stableAfterMs: 60_000 };
    expect(restartDelay(16_000, 59_999, p).delayMs).toBe(16_000);
    expect(restartDelay(16_000, 60_000, p)).toEqual({ delayMs: 500, nextMs: 1000 });
  });
});
