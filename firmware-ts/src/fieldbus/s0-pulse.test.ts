import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type S0State, s0Edge, s0Initial, s0RatePerH, s0Total } from './s0-pulse.ts';

const opts = { debounceMs: 20 };

function apply(edges: [0 | 1, number][], start = s0Initial()): S0State {
  let s = start;
  for (const [level, at] of edges) s = s0Edge(s, level, at, opts).state;
  return s;
}

/** Edges of a clean train: `n` pulses of `widthMs` every `periodMs`, starting at `t0`. */
function train(n: number, periodMs: number, widthMs = 40, t0 = 1000): [0 | 1, number][] {
  const edges: [0 | 1, number][] = [];
  for (let i = 0; i < n; i++) edges.push([1, t0 + i * periodMs], [0, t0 + i * periodMs + widthMs]);
  return edges;
}

describe('S0 pulses', () => {
  it('counts clean pulses and gives power from the period: 1000 imp/kWh every 1.8 s is 2 kW', () => {
    const s = apply(train(5, 1800));
    expect(s.count).toBe(5);
    expect(s0Total(s, 1000)).toBeCloseTo(0.005, 12);
    expect(s0RatePerH(s, 1000 + 4 * 1800 + 100, 1000)).toBeCloseTo(2, 9);
  });

  it('power decays when pulses stop and reads 0 after the cut-off', () => {
    const s = apply(train(3, 1800));
    const last = 1000 + 2 * 1800;
    expect(s0RatePerH(s, last + 3600, 1000)).toBeCloseTo(1, 9);
    expect(s0RatePerH(s, last + 3_600_000, 1000)).toBe(0);
    expect(s0RatePerH(apply(train(1, 1800)), 5000, 1000)).toBeNull();
  });

  it('ignores a spike shorter than the debounce and joins a pulse split by a bounce', () => {
    const s = apply([
      [1, 0],
      [0, 5], // 5 ms spike: noise
      [1, 1000],
      [0, 1015], // bounce: 15 ms ON…
      [1, 1020], // …5 ms OFF…
      [0, 1045], // …then ON again: one 45 ms pulse
      [1, 1050], // bounce after the pulse
      [0, 1052],
    ]);
    expect(s.count).toBe(1);
    expect(s.lastPulseMs).toBe(1000);
  });

  it('the persisted count carries on after a restart', () => {
    const before = apply(train(7, 500));
    const restored = s0Initial(JSON.parse(JSON.stringify(before.count)) as number);
    expect(apply(train(3, 500, 40, 99_000), restored).count).toBe(10);
  });

  it('property: any bounce shorter than the debounce leaves exactly one count per real pulse', () => {
    const pulse = fc.record({
      gapMs: fc.integer({ min: 50, max: 5000 }),
      widthMs: fc.integer({ min: 45, max: 120 }),
      bouncesAtRise: fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 3 }),
      bouncesAtFall: fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.array(pulse, { maxLength: 40 }), (pulses) => {
        const edges: [0 | 1, number][] = [];
        let t = 0;
        for (const p of pulses) {
          t += p.gapMs;
          const rise = t;
          // Bounce at the rise: the contact chatters on/off within a few ms before settling ON.
          let c = rise;
          for (const b of p.bouncesAtRise) {
            edges.push([1, c], [0, c + b]);
            c += 2 * b;
          }
          edges.push([1, c]);
          const fall = rise + p.widthMs + 10;
          edges.push([0, fall]);
          let d = fall;
          for (const b of p.bouncesAtFall) {
            edges.push([1, d + b], [0, d + 2 * b]);
            d += 2 * b;
          }
          t = d + 10;
        }
        expect(apply(edges).count).toBe(pulses.length);
      }),
    );
  });

  it('property: a steady train gives the exact rate, and the rate never rises while no pulse comes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 100_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 20 }),
        (periodMs, imp, waits) => {
          const s = apply(train(4, periodMs));
          const last = 1000 + 3 * periodMs;
          expect(s0RatePerH(s, last + 50, imp)).toBeCloseTo(3_600_000 / (periodMs * imp), 9);
          let prev = Number.POSITIVE_INFINITY;
          for (const w of [...waits].sort((a, b) => a - b)) {
            const r = s0RatePerH(s, last + w, imp)!;
            expect(r).toBeLessThanOrEqual(prev);
            prev = r;
          }
        },
      ),
    );
  });
});
