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
    const deadline = performance.now() + 10_000;
    while (r.falls.length < 6 && performance.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    await train.stop();
    expect(r.falls.length).toBeGreaterThanOrEqual(6);
    // Impulses are scheduled on absolute times 100 ms apart and a stall only delays them (never a
    // burst): five intervals span 500 ms, minus the lateness of the first impulse, plus that of the
    // sixth (timers ran up to ~80 ms late with both cores busy). Half or double the rate (1000 or
    // 250 ms) fails a bound.
    const span = (r.rises[5] ?? 0) - (r.rises[0] ?? 0);
    expect(span).toBeGreaterThan(500 - 100);
    expect(span).toBeLessThan(500 + 250);
    // The contact is never closed for less than the 40 ms asked (IEC 62053-31 needs ≥ 30 ms). A late
    // timer can only lengthen a pulse, so the shortest one shows the width the train intends.
    const widths = r.falls.map((f, i) => f - (r.rises[i] ?? 0));
    for (const width of widths) expect(width).toBeGreaterThanOrEqual(39);
    expect(Math.min(...widths)).toBeLessThan(40 + 20);
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
