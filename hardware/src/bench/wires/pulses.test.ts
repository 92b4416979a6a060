import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryWires } from './memory-wires.ts';
import { s0IntervalMs, startS0Pulses, startStrobe } from './pulses.ts';

function recorder(bus: MemoryWires, line: string): { rises: number[]; falls: number[] } {
  const rises: number[] = [];
  const falls: number[] = [];
  bus.onEdge(line, (level, atNs) => (level === 1 ? rises : falls).push(Number(atNs) / 1e6));
  return { rises, falls };
}

describe('pulse trains', () => {
  it('S0 interval: 3.6 kW at 1000 imp/kWh is one impulse per second', () => {
    expect(s0IntervalMs(3.6, 1000)).toBeCloseTo(1000, 9);
    expect(s0IntervalMs(0, 1000)).toBe(Number.POSITIVE_INFINITY);
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        fc.double({ min: 1, max: 10000, noNaN: true }),
        (rate, imp) => {
          // impulses in one hour = rate · imp
          expect(3_600_000 / s0IntervalMs(rate, imp)).toBeCloseTo(rate * imp, 6);
        },
      ),
    );
  });

  it('drives S0 impulses at the rate, each 30-100 ms wide', async () => {
    const bus = new MemoryWires();
    const r = recorder(bus, 's0');
    // 36 kW at 1000 imp/kWh = 10 impulses per second; width 40 ms
    const train = startS0Pulses(bus, 's0', { impulsesPerUnit: 1000, ratePerHour: () => 36, pulseMs: 40 });
    await new Promise((res) => setTimeout(res, 620));
    await train.stop();
    expect(r.rises.length).toBeGreaterThanOrEqual(3); // ~6 expected; timers run late on a loaded machine
    expect(r.rises.length).toBeLessThanOrEqual(7);
    for (let i = 0; i < r.falls.length; i++) {
      const width = (r.falls[i] ?? 0) - (r.rises[i] ?? 0);
      expect(width).toBeGreaterThanOrEqual(39);
      expect(width).toBeLessThan(100);
    }
    expect(await bus.read('s0')).toBe(0);
  });

  it('strobes N pulses at 14 Hz with the right period on average', async () => {
    const bus = new MemoryWires();
    const r = recorder(bus, 'opt');
    const train = startStrobe(bus, 'opt', { hz: 14, pulses: 8, pulseMs: 10 });
    await train.done;
    expect(train.count()).toBe(8);
    expect(r.rises.length).toBe(8);
    const meanPeriod = ((r.rises[7] ?? 0) - (r.rises[0] ?? 0)) / 7;
    expect(meanPeriod).toBeGreaterThan(1000 / 14 - 3);
    expect(meanPeriod).toBeLessThan(1000 / 14 + 8);
  });

  it('refuses a pulse width outside 30-100 ms for S0', () => {
    expect(() =>
      startS0Pulses(new MemoryWires(), 's0', { impulsesPerUnit: 1, ratePerHour: () => 1, pulseMs: 10 }),
    ).toThrow(/30-100 ms/);
  });
});
