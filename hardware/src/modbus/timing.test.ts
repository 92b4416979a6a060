import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { charTimeMs, frameTimeMs, rtuTransactionTimeMs, t35Ms } from './timing.ts';

describe('RTU wire time', () => {
  it('computes character and t3.5 times', () => {
    expect(charTimeMs(9600)).toBeCloseTo(1.1458, 4);
    expect(charTimeMs(9600, 10)).toBeCloseTo(1.0417, 4);
    expect(t35Ms(9600)).toBeCloseTo(4.0104, 4);
    expect(t35Ms(19200)).toBeCloseTo(2.0052, 4);
    expect(t35Ms(38400)).toBe(1.75);
    expect(frameTimeMs(8, 9600)).toBeCloseTo(9.1667, 4);
  });

  it('matches (13 + 2N)·t_char + 2·t3.5 + turnaround for a read of N registers', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200),
        fc.integer({ min: 1, max: 125 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (baud, n, turnaroundMs) => {
          const t = rtuTransactionTimeMs({ baud, requestBytes: 8, responseBytes: 5 + 2 * n, turnaroundMs });
          expect(t).toBeCloseTo((13 + 2 * n) * charTimeMs(baud) + 2 * t35Ms(baud) + turnaroundMs, 9);
        },
      ),
    );
  });

  it('an SDM630 read one value at a time is several times slower than one block', () => {
    // 40 float32 values at 9600 Bd, 20 ms turnaround: 40 reads of 2 registers vs 1 read of 80.
    const one = rtuTransactionTimeMs({ baud: 9600, requestBytes: 8, responseBytes: 9, turnaroundMs: 20 });
    const block = rtuTransactionTimeMs({ baud: 9600, requestBytes: 8, responseBytes: 165, turnaroundMs: 20 });
    expect((40 * one) / block).toBeGreaterThan(4);
  });
});
