import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimiter, takeToken } from './rate-limit.ts';

describe('takeToken', () => {
  it('never allows more than burst + elapsed × rate requests', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 300 }),
        (perSecond, burst, gaps) => {
          let bucket: ReturnType<typeof takeToken>['bucket'] | undefined;
          let now = 1_000_000;
          let allowed = 0;
          for (const gap of gaps) {
            now += gap;
            const r = takeToken(bucket, { perSecond, burst }, now);
            bucket = r.bucket;
            if (r.allowed) allowed++;
            else expect(r.retryAfterS).toBeGreaterThanOrEqual(1);
            expect(bucket.tokens).toBeGreaterThanOrEqual(0);
            expect(bucket.tokens).toBeLessThanOrEqual(burst);
          }
          const elapsedS = (now - 1_000_000) / 1000;
          expect(allowed).toBeLessThanOrEqual(burst + elapsedS * perSecond + 1e-9);
        },
      ),
    );
  });

  it('lets a burst through, then refuses until tokens refill', () => {
    const rl = new RateLimiter({ perSecond: 1, burst: 3 });
    const t = 5_000;
    expect([1, 2, 3, 4].map(() => rl.take('a', t).allowed)).toStrictEqual([true, true, true, false]);
    expect(rl.take('b', t).allowed).toBe(true);
    expect(rl.take('a', t + 1000).allowed).toBe(true);
  });
});
