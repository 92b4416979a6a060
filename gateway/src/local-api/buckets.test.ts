import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketStart, bucketsBetween, isTimeZone, STEPS } from './buckets.ts';

const PRAGUE = 'Europe/Prague';
const localClock = (ms: number, timeZone: string) =>
  new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
    new Date(ms),
  );

// 2024-01-01 .. 2027-01-01: three years with six DST changes.
const instant = fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2027, 0, 1) });

describe('history buckets', () => {
  it('cover the range without gaps or overlaps, on quarter-hour boundaries', () => {
    fc.assert(
      fc.property(
        instant,
        fc.integer({ min: 1, max: 20 * 86_400_000 }),
        fc.constantFrom(...STEPS),
        (from, span, step) => {
          const to = from + span;
          const buckets = bucketsBetween(from, to, step, PRAGUE, 100_000)!;
          expect(buckets[0]!.startMs).toBeLessThanOrEqual(from);
          expect(buckets.at(-1)!.endMs).toBeGreaterThanOrEqual(to);
          for (let i = 0; i < buckets.length; i++) {
            const b = buckets[i]!;
            expect(b.startMs % 900_000).toBe(0);
            expect(b.endMs - b.startMs).toBe(b.quarters * 900_000);
            if (i > 0) expect(b.startMs).toBe(buckets[i - 1]!.endMs);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('local hours and days start at :00 and 00:00 Prague time', () => {
    fc.assert(
      fc.property(instant, (ms) => {
        expect(localClock(bucketStart(ms, '1h', PRAGUE), PRAGUE)).toMatch(/^\d\d:00$/);
        expect(localClock(bucketStart(ms, '1d', PRAGUE), PRAGUE)).toBe('00:00');
        expect(bucketStart(ms, '1d', PRAGUE)).toBeLessThanOrEqual(ms);
        expect(bucketStart(ms, '1h', PRAGUE)).toBeGreaterThan(ms - 3_600_000);
      }),
    );
  });

  it('DST days have 92 and 100 quarter hours, other days 96', () => {
    const day = (iso: string) =>
      bucketsBetween(Date.parse(`${iso}T12:00:00Z`), Date.parse(`${iso}T12:00:01Z`), '1d', PRAGUE, 5)!;
    expect(day('2025-03-30')[0]!.quarters).toBe(92);
    expect(day('2025-10-26')[0]!.quarters).toBe(100);
    expect(day('2025-06-01')[0]!.quarters).toBe(96);
    expect(day('2025-06-01')[0]!.startMs).toBe(Date.parse('2025-05-31T22:00:00Z'));
  });

  it('says when a range holds more buckets than allowed', () => {
    expect(bucketsBetween(0, 86_400_000, '15m', PRAGUE, 95)).toBeUndefined();
    expect(bucketsBetween(0, 86_400_000, '15m', PRAGUE, 96)).toHaveLength(96);
  });

  it('works in a zone with a half-hour offset', () => {
    const ms = Date.parse('2025-06-01T10:10:00Z');
    expect(localClock(bucketStart(ms, '1h', 'Asia/Kolkata'), 'Asia/Kolkata')).toBe('15:00');
    expect(isTimeZone('Asia/Kolkata')).toBe(true);
    expect(isTimeZone('Europe/Atlantis')).toBe(false);
  });
});
