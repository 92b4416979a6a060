// The operating system's clocks: Date for wall time, hrtime/performance.now for monotonic time,
// Node timers (which run on the monotonic clock) for timeouts and intervals.
import { performance } from 'node:perf_hooks';
import { HalConfigError } from '../../errors.ts';
import { type Clock, checkDelay, type TimerHandle } from './clock.ts';

export interface RealClockOptions {
  /**
   * Let pending timers not keep the process alive. Daemons leave this false; libraries that
   * only watch (health checks, debounce) may set it.
   */
  unrefTimers?: boolean;
}

export class RealClock implements Clock {
  readonly #unref: boolean;

  constructor(options: RealClockOptions = {}) {
    this.#unref = options.unrefTimers ?? false;
  }

  nowMs(): number {
    return Date.now();
  }

  monotonicMs(): number {
    return performance.now();
  }

  monotonicNs(): bigint {
    return process.hrtime.bigint();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    checkDelay('delayMs', delayMs);
    const t = setTimeout(callback, Math.max(0, delayMs));
    if (this.#unref) t.unref();
    return t as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as unknown as NodeJS.Timeout);
  }

  setInterval(callback: () => void, periodMs: number): TimerHandle {
    if (!(periodMs > 0)) {
      throw new HalConfigError(
        'periodMs',
        `interval period must be > 0, got ${periodMs}`,
        'pass a positive period',
      );
    }
    checkDelay('periodMs', periodMs);
    const t = setInterval(callback, periodMs);
    if (this.#unref) t.unref();
    return t as unknown as TimerHandle;
  }

  clearInterval(handle: TimerHandle): void {
    clearInterval(handle as unknown as NodeJS.Timeout);
  }
}
