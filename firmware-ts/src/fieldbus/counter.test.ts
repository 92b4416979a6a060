import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CounterOptions, type CounterState, counterStep } from './counter.ts';

const u16: CounterOptions = { rawBits: 16, scale: 0.01 };
const u32: CounterOptions = { rawBits: 32, scale: 1 };
const f32: CounterOptions = { rawBits: null, scale: 1 };

/** Feeds raw register values of a u16/u32 counter (value = raw · scale) and returns the steps. */
function feed(opts: CounterOptions, raws: number[], serials?: (string | undefined)[]) {
  let state: CounterState | undefined;
  const steps = raws.map((raw, i) => {
    const s = counterStep(
      state,
      { value: raw * opts.scale, raw, atMs: i * 60_000, serial: serials?.[i] },
      opts,
    );
    state = s.state;
    return s;
  });
  return { state: state!, steps };
}

describe('counterStep', () => {
  it('tells a 16-bit rollover apart from a reset and from a replaced meter', () => {
    const roll = feed(u16, [65_000, 65_500, 200]);
    expect(roll.steps.map((s) => s.event)).toEqual(['first', undefined, 'rollover']);
    expect(roll.state.total).toBeCloseTo(650 + 5 + (200 + 65_536 - 65_500) * 0.01, 9);

    const reset = feed(f32, [12_345.6, 12_346, 3]);
    expect(reset.steps[2]!.event).toBe('reset');
    expect(reset.state.total).toBeCloseTo(12_346 + 3, 6);

    const replaced = feed(f32, [12_345.6, 12_346, 4_000]);
    expect(replaced.steps[2]!.event).toBe('replaced');
    expect(replaced.state.total).toBeCloseTo(12_346, 6);
    expect(replaced.state.lastValue).toBe(4_000);
  });

  it('a new serial number is a replacement even when the reading goes up', () => {
    const r = feed(f32, [100, 101, 150, 151], ['A1', 'A1', 'B7', 'B7']);
    expect(r.steps.map((s) => s.event)).toEqual(['first', undefined, 'replaced', undefined]);
    expect(r.state.total).toBe(102);
    expect(r.state.serial).toBe('B7');
  });

  it('a drop far from the top of a 32-bit register is not taken for a rollover', () => {
    const r = feed(u32, [3_000_000_000, 2_000_000_000]);
    expect(r.steps[1]!.event).toBe('replaced');
  });

  it('with a rate limit, an impossible rise is a jump and books nothing', () => {
    const opts: CounterOptions = { rawBits: null, scale: 1, maxRatePerH: 100 };
    const a = counterStep(undefined, { value: 10, raw: 10, atMs: 0 }, opts);
    const b = counterStep(a.state, { value: 5_010, raw: 5_010, atMs: 3_600_000 }, opts);
    expect(b.event).toBe('jump');
    expect(b.state.total).toBe(10);
    const c = counterStep(b.state, { value: 5_060, raw: 5_060, atMs: 7_200_000 }, opts);
    expect(c.delta).toBe(50);
  });

  it('float noise below the last value neither books nor lowers the total', () => {
    const r = feed(f32, [1000, 999.9999999, 1000.5]);
    expect(r.steps[1]!.event).toBeUndefined();
    expect(r.state.total).toBeCloseTo(1000.5, 9);
  });

  it('property: total of a wrapping register equals the true use, whatever the width', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(16 as const, 32 as const),
        fc.nat(),
        fc.array(fc.integer({ min: 0, max: 8000 }), { maxLength: 100 }),
        (bits, start, increments) => {
          const modulus = 2 ** bits;
          let trueCount = start % modulus;
          const raws = [trueCount];
          for (const inc of increments) {
            trueCount += inc;
            raws.push(trueCount % modulus);
          }
          const { state } = feed({ rawBits: bits, scale: 1 }, raws);
          expect(state.total).toBe(trueCount);
        },
      ),
    );
  });

  it('property: resets to zero are booked as use, the total counts every unit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10_000, max: 1_000_000 }),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 50 }), fc.constant(-1)), { maxLength: 60 }),
        (start, script) => {
          // -1 means the meter is cleared and has counted 0..5 units when read next.
          let shown = start;
          let used = 0;
          const values = [shown];
          for (const s of script) {
            if (s === -1 && shown > 600) {
              shown = 5;
              used += 5;
            } else if (s >= 0) {
              shown += s;
              used += s;
            }
            values.push(shown);
          }
          const { state } = feed(f32, values);
          expect(state.total).toBeCloseTo(start + used, 6);
        },
      ),
    );
  });

  it('property: the total never decreases and survives a JSON round trip mid-stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ raw: fc.integer({ min: 0, max: 65_535 }), serial: fc.constantFrom('A', 'B') }), {
          minLength: 2,
          maxLength: 60,
        }),
        fc.nat(),
        (readings, cut) => {
          let state: CounterState | undefined;
          let restored: CounterState | undefined;
          const at = cut % readings.length;
          readings.forEach((r, i) => {
            const input = { value: r.raw * 0.1, raw: r.raw, atMs: i * 1000, serial: r.serial };
            const before = state?.total ?? Number.NEGATIVE_INFINITY;
            state = counterStep(state, input, { rawBits: 16, scale: 0.1 }).state;
            if (i === at) restored = JSON.parse(JSON.stringify(state)) as CounterState;
            else if (restored) restored = counterStep(restored, input, { rawBits: 16, scale: 0.1 }).state;
            expect(state.total).toBeGreaterThanOrEqual(before);
          });
          expect(restored).toEqual(state);
        },
      ),
    );
  });
});
