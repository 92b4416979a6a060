import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StrobeClassifier } from './strobe-classifier.ts';

const CLASSES = [
  { name: 'emergency', hz: 14.035, toleranceHz: 0.6 },
  { name: 'transit', hz: 9.639, toleranceHz: 0.6 },
];

function train(hz: number, n: number, jitterMs: (i: number) => number, startMs = 1000): number[] {
  return Array.from({ length: n }, (_, i) => startMs + (i * 1000) / hz + jitterMs(i));
}

describe('strobe classifier', () => {
  it('detects emergency after the configured number of pulses, not before', () => {
    const s = new StrobeClassifier(CLASSES, 4);
    const t = train(14.035, 4, () => 0);
    expect(t.slice(0, 3).map((x) => s.pulse(x))).toEqual([-1, -1, -1]);
    expect(s.pulse(t[3]!)).toBe(0);
  });

  it('ends a detection three periods after the last pulse', () => {
    const s = new StrobeClassifier(CLASSES, 4);
    const t = train(9.639, 6, () => 0);
    for (const x of t) s.pulse(x);
    expect(s.current).toBe(1);
    expect(s.expire(t[5]! + 300)).toBe(false);
    expect(s.expire(t[5]! + 320)).toBe(true);
    expect(s.current).toBe(-1);
  });

  it('property: a train within tolerance (with jitter and one missed flash) is classified right', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1),
        fc.double({ min: -0.5, max: 0.5, noNaN: true }),
        // The detector profile's sim jitter is ±2 ms per flash.
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 12, maxLength: 12 }),
        (cls, dHz, jitter) => {
          const s = new StrobeClassifier(CLASSES, 4);
          const hz = CLASSES[cls]!.hz + dHz * 0.5;
          const t = train(hz, 12, (i) => jitter[i]!);
          t.splice(7, 1); // a missed flash
          let last = -1;
          for (const x of t) last = s.pulse(x);
          expect(last).toBe(cls);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('property: a rate outside every band is never classified', () => {
    fc.assert(
      fc.property(
        fc
          .double({ min: 0.5, max: 40, noNaN: true })
          .filter((hz) => CLASSES.every((c) => Math.abs(hz - c.hz) > c.toleranceHz + 0.05)),
        (hz) => {
          const s = new StrobeClassifier(CLASSES, 4);
          for (const x of train(hz, 30, () => 0)) expect(s.pulse(x)).toBe(-1);
        },
      ),
    );
  });
});
