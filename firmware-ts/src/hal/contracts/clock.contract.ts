// The behaviour every Clock must show, run against each implementation.
// Only waits on conditions (never fixed sleeps), so it is as fast as the clock allows and
// tolerant of a loaded machine when the clock is real.
import { describe, expect, it } from 'vitest';
import { HalConfigError } from '../../errors.ts';
import { type Clock, sleepMs } from '../clock/clock.ts';

export interface ClockHarness {
  clock: Clock;
  /** Lets time pass until `done()` holds or `limitMs` of clock time have gone; resolves to `done()`. */
  waitUntil(done: () => boolean, limitMs: number): Promise<boolean>;
  dispose?(): void;
}

export function describeClockContract(name: string, create: () => ClockHarness): void {
  describe(`Clock contract: ${name}`, () => {
    it('monotonic time never goes backwards and both units agree', async () => {
      const h = create();
      const ns0 = h.clock.monotonicNs();
      const ms0 = h.clock.monotonicMs();
      let fired = false;
      h.clock.setTimeout(() => {
        fired = true;
      }, 5);
      expect(await h.waitUntil(() => fired, 100)).toBe(true);
      const ns1 = h.clock.monotonicNs();
      const ms1 = h.clock.monotonicMs();
      expect(ns1 >= ns0).toBe(true);
      expect(ms1).toBeGreaterThanOrEqual(ms0 + 4);
      // The two readings are taken a few microseconds apart on a real clock.
      expect(Math.abs(Number(ns1 - ns0) / 1e6 - (ms1 - ms0))).toBeLessThan(5);
      h.dispose?.();
    });

    it('wall time is epoch milliseconds', () => {
      const h = create();
      const now = h.clock.nowMs();
      expect(Number.isInteger(now)).toBe(true);
      expect(now).toBeGreaterThan(Date.UTC(2020, 0, 1));
      h.dispose?.();
    });

    it('a timeout fires once, no earlier than its delay', async () => {
      const h = create();
      const start = h.clock.monotonicMs();
      const firedAt: number[] = [];
      h.clock.setTimeout(() => firedAt.push(h.clock.monotonicMs()), 20);
      expect(await h.waitUntil(() => firedAt.length > 0, 200)).toBe(true);
      // Node may round a timer's start down by up to 1 ms.
      expect(firedAt[0]! - start).toBeGreaterThanOrEqual(19);
      let sentinel = false;
      h.clock.setTimeout(() => {
        sentinel = true;
      }, 30);
      await h.waitUntil(() => sentinel, 300);
      expect(firedAt).toHaveLength(1);
      h.dispose?.();
    });

    it('timeouts fire in due-time order, ties in the order they were set', async () => {
      const h = create();
      const order: string[] = [];
      h.clock.setTimeout(() => order.push('c'), 45);
      h.clock.setTimeout(() => order.push('a'), 5);
      h.clock.setTimeout(() => order.push('b1'), 25);
      h.clock.setTimeout(() => order.push('b2'), 25);
      expect(await h.waitUntil(() => order.length === 4, 500)).toBe(true);
      expect(order).toEqual(['a', 'b1', 'b2', 'c']);
      h.dispose?.();
    });

    it('a cleared timeout never fires', async () => {
      const h = create();
      let cleared = false;
      let sentinel = false;
      const t = h.clock.setTimeout(() => {
        cleared = true;
      }, 5);
      h.clock.clearTimeout(t);
      h.clock.clearTimeout(t);
      h.clock.setTimeout(() => {
        sentinel = true;
      }, 25);
      expect(await h.waitUntil(() => sentinel, 300)).toBe(true);
      expect(cleared).toBe(false);
      h.dispose?.();
    });

    it('an interval repeats until cleared, at least one period apart', async () => {
      const h = create();
      const at: number[] = [];
      const t = h.clock.setInterval(() => at.push(h.clock.monotonicMs()), 10);
      expect(await h.waitUntil(() => at.length >= 3, 500)).toBe(true);
      h.clock.clearInterval(t);
      const count = at.length;
      let sentinel = false;
      h.clock.setTimeout(() => {
        sentinel = true;
      }, 35);
      await h.waitUntil(() => sentinel, 300);
      expect(at.length).toBe(count);
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(9);
      h.dispose?.();
    });

    it('an interval period of 0 is refused with a clear error', () => {
      const h = create();
      expect(() => h.clock.setInterval(() => {}, 0)).toThrow(HalConfigError);
      expect(() => h.clock.setInterval(() => {}, 0)).toThrow(/period must be > 0/);
      h.dispose?.();
    });

    it('refuses a delay longer than a timer can hold instead of firing it at once', () => {
      const h = create();
      expect(() => h.clock.setTimeout(() => {}, 2 ** 31)).toThrow(HalConfigError);
      expect(() => h.clock.setTimeout(() => {}, 2 ** 31)).toThrow(/delayMs: .*longest timer.*Fix:/);
      expect(() => h.clock.setInterval(() => {}, 30 * 86_400_000)).toThrow(/periodMs/);
      h.dispose?.();
    });

    it('sleepMs resolves after the delay and rejects when aborted', async () => {
      const h = create();
      let slept = false;
      void sleepMs(h.clock, 10).then(() => {
        slept = true;
      });
      expect(await h.waitUntil(() => slept, 200)).toBe(true);
      const ac = new AbortController();
      let outcome = 'pending';
      sleepMs(h.clock, 10_000, ac.signal).then(
        () => {
          outcome = 'resolved';
        },
        (e: unknown) => {
          outcome = `rejected:${String(e)}`;
        },
      );
      ac.abort(new Error('stop'));
      expect(await h.waitUntil(() => outcome !== 'pending', 50)).toBe(true);
      expect(outcome).toBe('rejected:Error: stop');
      h.dispose?.();
    });
  });
}
