// A clock that only moves when a test (or the bench's fast-forward) says so. Timers fire in
// due-time order, ties in the order they were set, each with the clock standing at its due time.
// Wall time is monotonic time plus an offset, so a wall-clock jump (NTP step, hand-set RTC)
// can be modelled without disturbing timers, exactly as on a real system.
import { FirmwareError, HalConfigError } from '../../errors.ts';
import { type Clock, checkDelay, type TimerHandle } from './clock.ts';

export interface VirtualClockOptions {
  /** Wall-clock time at creation, ms since the epoch. Default 2026-01-01T00:00:00Z. */
  startWallMs?: number;
  /** Monotonic time at creation, ms. Default 0. */
  startMonotonicMs?: number;
  /** How many timer firings one `runAll` may do before it gives up (runaway intervals). */
  maxFiringsPerRun?: number;
}

interface VirtualTimer {
  dueMs: number;
  seq: number;
  /** 0 for a one-shot timeout. */
  periodMs: number;
  callback: () => void;
  active: boolean;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class VirtualClock implements Clock {
  #monoMs: number;
  #wallOffsetMs: number;
  #seq = 0;
  readonly #maxFirings: number;
  /** Sorted by (dueMs, seq); small in practice, so insertion sort beats a heap in clarity. */
  readonly #queue: VirtualTimer[] = [];

  constructor(options: VirtualClockOptions = {}) {
    this.#monoMs = options.startMonotonicMs ?? 0;
    this.#wallOffsetMs = (options.startWallMs ?? Date.UTC(2026, 0, 1)) - this.#monoMs;
    this.#maxFirings = options.maxFiringsPerRun ?? 100_000;
  }

  nowMs(): number {
    return Math.floor(this.#monoMs + this.#wallOffsetMs);
  }

  monotonicMs(): number {
    return this.#monoMs;
  }

  monotonicNs(): bigint {
    return BigInt(Math.round(this.#monoMs * 1e6));
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    checkDelay('delayMs', delayMs);
    return this.#add(callback, Math.max(0, Number.isFinite(delayMs) ? delayMs : 0), 0);
  }

  clearTimeout(handle: TimerHandle): void {
    this.#remove(handle);
  }

  setInterval(callback: () => void, periodMs: number): TimerHandle {
    if (!(periodMs > 0) || !Number.isFinite(periodMs)) {
      throw new HalConfigError(
        'periodMs',
        `interval period must be > 0, got ${periodMs}`,
        'pass a positive period',
      );
    }
    checkDelay('periodMs', periodMs);
    return this.#add(callback, periodMs, periodMs);
  }

  clearInterval(handle: TimerHandle): void {
    this.#remove(handle);
  }

  /** Timers still waiting to fire. */
  get pendingTimerCount(): number {
    return this.#queue.length;
  }

  /** Monotonic time at which the next timer fires, or undefined when none is pending. */
  nextDueMs(): number | undefined {
    return this.#queue[0]?.dueMs;
  }

  /** Moves monotonic and wall time forward by `deltaMs`, firing every timer that falls due. */
  advance(deltaMs: number): void {
    if (!(deltaMs >= 0)) {
      throw new HalConfigError(
        'deltaMs',
        `cannot advance by ${deltaMs} ms`,
        'monotonic time only moves forward',
      );
    }
    this.advanceTo(this.#monoMs + deltaMs);
  }

  /** Moves monotonic time forward to `targetMs`, firing every timer due at or before it. */
  advanceTo(targetMs: number): void {
    if (targetMs < this.#monoMs) {
      throw new HalConfigError(
        'targetMs',
        `${targetMs} ms is before now (${this.#monoMs} ms)`,
        'monotonic time only moves forward; use setWallMs() to model a wall-clock step',
      );
    }
    let firings = 0;
    for (;;) {
      const next = this.#queue[0];
      if (next === undefined || next.dueMs > targetMs) break;
      this.#checkRunaway(++firings);
      this.#fire(next);
    }
    this.#monoMs = targetMs;
  }

  /** Jumps to the next pending timer and fires it; false if none is pending. */
  runNext(): boolean {
    const next = this.#queue[0];
    if (next === undefined) return false;
    this.#fire(next);
    return true;
  }

  /** Fires timers until none is left; throws if intervals keep it busy past `maxFiringsPerRun`. */
  runAll(): void {
    let firings = 0;
    while (this.runNext()) this.#checkRunaway(++firings);
  }

  /**
   * Fires timers one at a time until `done()` holds, but moves at most `limitMs` forward.
   * Returns whether `done()` held; on false the clock stands at now + limitMs.
   */
  runUntil(done: () => boolean, limitMs: number): boolean {
    const limit = this.#monoMs + limitMs;
    for (;;) {
      if (done()) return true;
      const next = this.#queue[0];
      if (next === undefined || next.dueMs > limit) {
        this.#monoMs = limit;
        return done();
      }
      this.#fire(next);
    }
  }

  /**
   * Like `advance`, but lets the event loop run (promise chains, real I/O) before and after
   * each timer, so async code driven by these timers makes progress as it would in real time.
   */
  async advanceAsync(deltaMs: number): Promise<void> {
    const target = this.#monoMs + deltaMs;
    await yieldToEventLoop();
    let firings = 0;
    for (;;) {
      const next = this.#queue[0];
      if (next === undefined || next.dueMs > target) break;
      this.#checkRunaway(++firings);
      this.#fire(next);
      await yieldToEventLoop();
    }
    this.#monoMs = Math.max(this.#monoMs, target);
    await yieldToEventLoop();
  }

  /** `runUntil` that lets the event loop run between timers; resolves to whether `done()` held. */
  async runUntilAsync(done: () => boolean, limitMs: number): Promise<boolean> {
    const limit = this.#monoMs + limitMs;
    await yieldToEventLoop();
    for (;;) {
      if (done()) return true;
      const next = this.#queue[0];
      if (next === undefined || next.dueMs > limit) {
        this.#monoMs = limit;
        await yieldToEventLoop();
        return done();
      }
      this.#fire(next);
      await yieldToEventLoop();
    }
  }

  /** Sets wall time (an NTP step or a hand-set clock). Monotonic time and timers are untouched. */
  setWallMs(wallMs: number): void {
    this.#wallOffsetMs = wallMs - this.#monoMs;
  }

  /** Steps wall time by `deltaMs` (negative: backwards). Monotonic time and timers are untouched. */
  jumpWallMs(deltaMs: number): void {
    this.#wallOffsetMs += deltaMs;
  }

  #add(callback: () => void, delayMs: number, periodMs: number): TimerHandle {
    const timer: VirtualTimer = {
      dueMs: this.#monoMs + delayMs,
      seq: this.#seq++,
      periodMs,
      callback,
      active: true,
    };
    this.#insert(timer);
    return timer as unknown as TimerHandle;
  }

  #insert(timer: VirtualTimer): void {
    const q = this.#queue;
    let i = q.length;
    while (i > 0) {
      const prev = q[i - 1]!;
      if (prev.dueMs < timer.dueMs || (prev.dueMs === timer.dueMs && prev.seq < timer.seq)) break;
      i--;
    }
    q.splice(i, 0, timer);
  }

  #remove(handle: TimerHandle): void {
    const timer = handle as unknown as VirtualTimer;
    if (!timer?.active) return;
    timer.active = false;
    const i = this.#queue.indexOf(timer);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  #fire(timer: VirtualTimer): void {
    this.#queue.shift();
    if (timer.dueMs > this.#monoMs) this.#monoMs = timer.dueMs;
    if (timer.periodMs > 0) {
      timer.dueMs += timer.periodMs;
      timer.seq = this.#seq++;
      this.#insert(timer);
    } else {
      timer.active = false;
    }
    timer.callback();
  }

  #checkRunaway(firings: number): void {
    if (firings > this.#maxFirings) {
      throw new FirmwareError(
        `VirtualClock fired more than ${this.#maxFirings} timers in one run. Fix: clear intervals that are no longer needed, or advance in smaller steps`,
        { code: 'VIRTUAL_CLOCK_RUNAWAY' },
      );
    }
  }
}
