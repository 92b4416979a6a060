import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../sim/random.ts';
import { FAULT_KINDS, FaultPlan, type FaultRule } from './faults.ts';

const rule: fc.Arbitrary<FaultRule> = fc.record({
  kind: fc.constantFrom(...FAULT_KINDS),
  probability: fc.double({ min: 0, max: 1, noNaN: true }),
});

describe('FaultPlan', () => {
  it('serves one-shots first, in order, each exactly once', () => {
    fc.assert(
      fc.property(
        fc.array(rule, { maxLength: 5 }),
        fc.array(rule, { maxLength: 10 }),
        fc.nat(),
        (standing, shots, seed) => {
          const plan = new FaultPlan(standing, seededRandom(seed));
          for (const s of shots) plan.once(s);
          for (const s of shots) expect(plan.next()).toBe(s);
          const after = plan.next();
          if (after !== undefined) expect(standing).toContain(after);
        },
      ),
    );
  });

  it('never faults with no rules; always with probability 1; at about the given rate otherwise', () => {
    expect(new FaultPlan([], Math.random).next()).toBeUndefined();
    const always = new FaultPlan([{ kind: 'timeout', probability: 1 }], seededRandom(1));
    for (let i = 0; i < 100; i++) expect(always.next()?.kind).toBe('timeout');
    const sometimes = new FaultPlan([{ kind: 'badCrc', probability: 0.1 }], seededRandom(2));
    let n = 0;
    for (let i = 0; i < 10_000; i++) if (sometimes.next() !== undefined) n++;
    expect(n).toBeGreaterThan(800);
    expect(n).toBeLessThan(1200);
  });
});
