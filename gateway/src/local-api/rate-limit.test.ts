import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Bucket, RateLimiter, take } from './rate-limit.ts';

describe('token bucket', () => {
  it('never grants more than burst + rate × elapsed, and grants that much when asked steadily', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 300 }),
        (ratePerS, burst, gaps) => {
          let bucket: Bucket | undefined;
          let now = 10_000;
          let granted = 0;
          const start = now;
          for (const gap of gaps) {
            now += gap;
            const r = take(bucket, { ratePerS, burst }, now);
            bucket = r.bucket;
            if (r.ok) granted++;
            else expect(r.retryAfterMs).toBeGreaterThan(0);
          }
          expect(granted).toBeLessThanOrEqual(burst + Math.floor(((now - start) * ratePerS) / 1000) + 1);
        },
      ),
    );
  });

  it('after a refusal, asking again after retryAfterMs succeeds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 20 }), (ratePerS, burst) => {
        let bucket: Bucket | undefined;
        let r = take(bucket, { ratePerS, burst }, 0);
        while (r.ok) {
          bucket = r.bucket;
          r = take(bucket, { ratePerS, burst }, 0);
        }
        const again = take(r.bucket, { ratePerS, burst }, r.retryAfterMs);
        expect(again.ok).toBe(true);
      }),
    );
  });

  it('a clock stepping back refills nothing', () => {
    const first = take(undefined, { ratePerS: 1, burst: 1 }, 5000);
    expect(first.ok).toBe(true);
    expect(take(first.bucket, { ratePerS: 1, burst: 1 }, 1000).ok).toBe(false);
  });

  it('keeps separate buckets per key and forgets the least recent beyond its bound', () => {
    const limiter = new RateLimiter({ ratePerS: 1, burst: 1 }, 2);
    expect(limiter.take('a', 0).ok).toBe(true);
    expect(limiter.take('a', 0).ok).toBe(false);
    expect(limiter.take('b', 0).ok).toBe(true);
    expect(limiter.take('c', 0).ok).toBe(true);
    // 'a' was forgotten: a fresh bucket
    expect(limiter.take('a', 0).ok).toBe(true);
  });
});
