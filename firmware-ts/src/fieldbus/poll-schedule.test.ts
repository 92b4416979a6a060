import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { afterPoll, dueClasses, initialSchedule, nextDueMs, nextSlot, rearmOnce } from './poll-schedule.ts';

const periods = { fastMs: 1000, slowMs: 60_000 };

describe('poll schedule', () => {
  it('reads everything on first contact, then fast every second and slow every minute', () => {
    let s = initialSchedule(0);
    expect(dueClasses(s, 0)).toEqual(['fast', 'slow', 'once']);
    s = afterPoll(s, ['fast', 'slow', 'once'], 30, periods);
    expect(s).toEqual({ fast: 1000, slow: 60_000, once: null });
    expect(dueClasses(s, 999)).toEqual([]);
    expect(dueClasses(s, 1000)).toEqual(['fast']);
    // Slow due 200 ms after a fast poll is pulled in to share the round trip.
    s = { fast: 59_800, slow: 60_000, once: null };
    expect(dueClasses(s, 59_800, 500)).toEqual(['fast', 'slow']);
  });

  it('a failed once-read stays owed, and coming back online owes it again', () => {
    let s = afterPoll(initialSchedule(0), ['fast', 'slow', 'once'], 10, periods, false);
    expect(s.once).toBe(60_010);
    s = afterPoll(s, ['once'], 60_010, periods, true);
    expect(s.once).toBeNull();
    expect(rearmOnce(s, 5000).once).toBe(5000);
  });

  it('property: the next slot stays on the grid, is in the future and skips at most what was missed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 0, max: 1e7 }),
        (due, period, late) => {
          const now = due + late;
          const next = nextSlot(due, period, now);
          expect(next).toBeGreaterThan(now);
          expect((next - due) % period).toBe(0);
          expect(next - now).toBeLessThanOrEqual(period);
        },
      ),
    );
  });

  it('property: polling whenever due never starves a class and never polls one early', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 100, max: 2000 }),
        (lateness, fastMs) => {
          const p = { fastMs, slowMs: fastMs * 7 };
          let s = initialSchedule(0);
          let now = 0;
          for (const late of lateness) {
            now = nextDueMs(s) + late;
            const due = dueClasses(s, now);
            expect(due.length).toBeGreaterThan(0);
            const before = s;
            for (const c of due) expect(before[c]).toBeLessThanOrEqual(now);
            s = afterPoll(s, due, now, p);
            for (const c of due) {
              if (c !== 'once') expect(s[c]).toBeGreaterThan(now);
            }
            if (!due.includes('once')) expect(s.once).toBe(before.once);
          }
          // Every repeating class is due within one period of the last poll.
          expect(s.fast - now).toBeLessThanOrEqual(p.fastMs);
          expect(s.slow - now).toBeLessThanOrEqual(p.slowMs);
        },
      ),
    );
  });
});
