import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ClosedInterval,
  type IntervalState,
  intervalStep,
  localMidnightMs,
  QUARTER_HOUR_MS,
  quarterHoursOfLocalDay,
} from './quarter-hours.ts';

const MIN = 60_000;

function run(samples: { atMs: number; total: number }[], start?: IntervalState) {
  let state = start;
  const closed: ClosedInterval[] = [];
  for (const s of samples) {
    const r = intervalStep(state, s);
    state = r.state;
    closed.push(...r.closed);
  }
  return { state: state!, closed };
}

/** A 2 kW load read every minute from `fromMs` to `toMs`: total in kWh. */
function steadyLoad(fromMs: number, toMs: number, kW = 2, base = 1000) {
  const out: { atMs: number; total: number }[] = [];
  for (let t = fromMs; t <= toMs; t += MIN)
    out.push({ atMs: t, total: base + (kW * (t - fromMs)) / 3_600_000 });
  return out;
}

describe('quarter-hour intervals', () => {
  it('a local day in Europe/Prague has 96 quarter hours, 92 on the spring DST day and 100 in autumn', () => {
    expect(quarterHoursOfLocalDay('2026-06-01', 'Europe/Prague')).toHaveLength(96);
    expect(quarterHoursOfLocalDay('2026-03-29', 'Europe/Prague')).toHaveLength(92);
    expect(quarterHoursOfLocalDay('2026-10-25', 'Europe/Prague')).toHaveLength(100);
    expect(new Date(localMidnightMs('2026-10-25', 'Europe/Prague')).toISOString()).toBe(
      '2026-10-24T22:00:00.000Z',
    );
  });

  for (const [day, expected] of [
    ['2026-03-29', 92],
    ['2026-10-25', 100],
  ] as const) {
    it(`metering through ${day} gives ${expected} complete, UTC-aligned intervals of 0.5 kWh`, () => {
      const from = localMidnightMs(day, 'Europe/Prague');
      const starts = new Set(quarterHoursOfLocalDay(day, 'Europe/Prague'));
      const { closed } = run(steadyLoad(from - 30 * MIN, from + 26 * 3_600_000));
      const ofDay = closed.filter((c) => starts.has(c.startMs));
      expect(ofDay).toHaveLength(expected);
      for (const c of ofDay) {
        expect(c.startMs % QUARTER_HOUR_MS).toBe(0);
        expect(c.quality).toBe('complete');
        expect(c.delta).toBeCloseTo(0.5, 9);
      }
    });
  }

  it('across a restart the state file carries the open interval; the downtime is estimated, not lost', () => {
    const t0 = Date.UTC(2026, 4, 4, 10, 0);
    const before = run(steadyLoad(t0, t0 + 20 * MIN));
    const saved = JSON.parse(JSON.stringify(before.state)) as IntervalState;
    // Down for 40 minutes; the meter kept counting at 2 kW.
    const after = run(steadyLoad(t0 + 60 * MIN, t0 + 90 * MIN, 2, 1000 + 2), saved);
    const all = [...before.closed, ...after.closed];
    expect(all.map((c) => (c.startMs - t0) / MIN)).toEqual([0, 15, 30, 45, 60, 75]);
    // [10:15, 10:30) ends inside the downtime, [10:45, 11:00) starts inside it: both estimates.
    expect(all.map((c) => c.quality)).toEqual([
      'complete',
      'estimated',
      'estimated',
      'estimated',
      'complete',
      'complete',
    ]);
    for (const c of all) expect(c.delta).toBeCloseTo(0.5, 9);
  });

  it('a wall clock stepped back an hour neither reopens nor double-counts an interval', () => {
    const t0 = Date.UTC(2026, 4, 4, 10, 0);
    const samples = [
      { atMs: t0, total: 0 },
      { atMs: t0 + 10 * MIN, total: 1 },
      { atMs: t0 - 50 * MIN, total: 2 }, // NTP stepped back
      { atMs: t0 - 40 * MIN, total: 3 },
      { atMs: t0 + 20 * MIN, total: 4 },
    ];
    const { closed, state } = run(samples);
    expect(closed.map((c) => c.startMs)).toEqual([t0]);
    expect(closed[0]!.delta + (state.lastTotal - state.startTotal)).toBeCloseTo(4, 9);
  });

  it('property: intervals are contiguous, aligned, never negative, and conserve the counted use', () => {
    const step = fc.record({
      dtMs: fc.integer({ min: -3_600_000, max: 7_200_000 }),
      use: fc.double({ min: 0, max: 10, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1.7e12, max: 1.8e12 }),
        fc.array(step, { maxLength: 80 }),
        (t0, steps) => {
          let t = t0;
          let total = 100;
          const samples = [{ atMs: t, total }];
          for (const s of steps) {
            t += s.dtMs;
            total += s.use;
            samples.push({ atMs: t, total });
          }
          const { closed, state } = run(samples);
          let sum = 0;
          closed.forEach((c, i) => {
            expect(c.startMs % QUARTER_HOUR_MS).toBe(0);
            expect(c.endMs - c.startMs).toBe(QUARTER_HOUR_MS);
            if (i > 0) expect(c.startMs).toBe(closed[i - 1]!.endMs);
            expect(c.delta).toBeGreaterThanOrEqual(-1e-9);
            sum += c.delta;
          });
          expect(sum + state.lastTotal - state.startTotal).toBeCloseTo(total - 100, 6);
        },
      ),
    );
  });

  it('property: a restart with the saved state anywhere gives the same intervals as none', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 40 * MIN }), { minLength: 2, maxLength: 50 }),
        fc.nat(),
        (gaps, cutAt) => {
          let t = Date.UTC(2026, 2, 28, 22, 7);
          const samples = gaps.map((g, i) => {
            t += g;
            return { atMs: t, total: i * 0.25 };
          });
          const whole = run(samples);
          const cut = cutAt % samples.length;
          const first = run(samples.slice(0, cut));
          const resumed = run(samples.slice(cut), first.state && JSON.parse(JSON.stringify(first.state)));
          expect([...first.closed, ...resumed.closed]).toEqual(whole.closed);
        },
      ),
    );
  });
});
