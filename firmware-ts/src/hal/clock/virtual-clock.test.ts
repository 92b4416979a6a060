import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FirmwareError, HalConfigError } from '../../errors.ts';
import { VirtualClock } from './virtual-clock.ts';

describe('VirtualClock', () => {
  it('fires every uncleared timeout exactly once, in (due, set-order) order, at its due time', () => {
    const timerSpec = fc.record({ delayMs: fc.integer({ min: 0, max: 500 }), cleared: fc.boolean() });
    fc.assert(
      fc.property(
        fc.array(timerSpec, { maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 1, maxLength: 12 }),
        (specs, steps) => {
          const clock = new VirtualClock();
          const fired: { index: number; atMs: number }[] = [];
          const handles = specs.map((s, index) =>
            clock.setTimeout(() => fired.push({ index, atMs: clock.monotonicMs() }), s.delayMs),
          );
          specs.forEach((s, i) => {
            if (s.cleared) clock.clearTimeout(handles[i]!);
          });
          let total = 0;
          for (const step of steps) {
            clock.advance(step);
            total += step;
            expect(clock.monotonicMs()).toBe(total);
          }
          const expected = specs
            .map((s, index) => ({ ...s, index }))
            .filter((s) => !s.cleared && s.delayMs <= total)
            .sort((a, b) => a.delayMs - b.delayMs || a.index - b.index);
          expect(fired.map((f) => f.index)).toEqual(expected.map((e) => e.index));
          for (const f of fired) expect(f.atMs).toBe(specs[f.index]!.delayMs);
          expect(clock.pendingTimerCount).toBe(specs.filter((s) => !s.cleared && s.delayMs > total).length);
        },
      ),
    );
  });

  it('an interval fires floor(t / period) times however time is stepped', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 97 }), { maxLength: 20 }),
        (periodMs, steps) => {
          const clock = new VirtualClock();
          let count = 0;
          clock.setInterval(() => {
            count++;
            expect(clock.monotonicMs() % periodMs).toBe(0);
          }, periodMs);
          for (const s of steps) clock.advance(s);
          const total = steps.reduce((a, b) => a + b, 0);
          expect(count).toBe(Math.floor(total / periodMs));
        },
      ),
    );
  });

  it('wall-clock jumps move nowMs only; monotonic time and timers are untouched', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ advance: fc.integer({ min: 0, max: 1000 }) }),
            fc.record({ jump: fc.integer({ min: -86_400_000, max: 86_400_000 }) }),
          ),
          { maxLength: 30 },
        ),
        (ops) => {
          const clock = new VirtualClock({ startWallMs: 1_700_000_000_000 });
          let fired = 0;
          clock.setTimeout(() => fired++, 1500);
          let mono = 0;
          let wall = 1_700_000_000_000;
          for (const op of ops) {
            if ('advance' in op) {
              clock.advance(op.advance);
              mono += op.advance;
              wall += op.advance;
            } else {
              clock.jumpWallMs(op.jump);
              wall += op.jump;
            }
            expect(clock.monotonicMs()).toBe(mono);
            expect(clock.nowMs()).toBe(wall);
            expect(clock.monotonicNs()).toBe(BigInt(mono) * 1_000_000n);
          }
          expect(fired).toBe(mono >= 1500 ? 1 : 0);
        },
      ),
    );
  });

  it('setWallMs sets wall time without firing timers', () => {
    const clock = new VirtualClock();
    let fired = false;
    clock.setTimeout(() => {
      fired = true;
    }, 10);
    clock.setWallMs(Date.UTC(2030, 5, 1));
    expect(clock.nowMs()).toBe(Date.UTC(2030, 5, 1));
    expect(fired).toBe(false);
    clock.advance(10);
    expect(fired).toBe(true);
    expect(clock.nowMs()).toBe(Date.UTC(2030, 5, 1) + 10);
  });

  it('a timer set from a callback fires in the same advance when it falls due', () => {
    const clock = new VirtualClock();
    const at: number[] = [];
    clock.setTimeout(() => {
      at.push(clock.monotonicMs());
      clock.setTimeout(() => at.push(clock.monotonicMs()), 5);
      clock.setTimeout(() => at.push(clock.monotonicMs()), 0);
    }, 10);
    clock.advance(15);
    expect(at).toEqual([10, 10, 15]);
  });

  it('runUntil stops as soon as the condition holds, or at the limit', () => {
    const clock = new VirtualClock();
    let n = 0;
    clock.setInterval(() => n++, 100);
    expect(clock.runUntil(() => n === 3, 10_000)).toBe(true);
    expect(clock.monotonicMs()).toBe(300);
    expect(clock.runUntil(() => n === 100, 250)).toBe(false);
    expect(clock.monotonicMs()).toBe(550);
    expect(n).toBe(5);
  });

  it('runNext jumps to the next timer; runAll refuses a runaway interval', () => {
    const clock = new VirtualClock({ maxFiringsPerRun: 50 });
    let fired = 0;
    clock.setTimeout(() => fired++, 1000);
    expect(clock.nextDueMs()).toBe(1000);
    expect(clock.runNext()).toBe(true);
    expect(clock.monotonicMs()).toBe(1000);
    expect(clock.runNext()).toBe(false);
    clock.setInterval(() => {}, 1);
    expect(() => clock.runAll()).toThrow(FirmwareError);
    expect(() => clock.runAll()).toThrow(/clear intervals/);
  });

  it('refuses to move monotonic time backwards, naming the fix', () => {
    const clock = new VirtualClock();
    clock.advance(100);
    expect(() => clock.advance(-1)).toThrow(HalConfigError);
    expect(() => clock.advanceTo(50)).toThrow(/use setWallMs/);
  });

  it('advanceAsync lets promise chains driven by timers run to completion', async () => {
    const clock = new VirtualClock();
    const steps: number[] = [];
    const chain = async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((r) => clock.setTimeout(r, 10));
        steps.push(clock.monotonicMs());
      }
    };
    const done = chain();
    await clock.advanceAsync(30);
    await done;
    expect(steps).toEqual([10, 20, 30]);
  });
});
