// The time source every component takes. Wall time (`nowMs`) may jump (NTP, RTC set by hand);
// monotonic time never does, so durations and timers use it.

import { HalConfigError } from '../../errors.ts';

declare const timerHandleBrand: unique symbol;

/** Opaque handle of a pending timer; only the clock that made it can clear it. */
export type TimerHandle = { readonly [timerHandleBrand]: true };

export interface Clock {
  /** Wall-clock time, milliseconds since the Unix epoch. May jump backwards or forwards. */
  nowMs(): number;
  /** Monotonic time in milliseconds (fractional), arbitrary origin. Never jumps; no allocation. */
  monotonicMs(): number;
  /** Monotonic time in nanoseconds, arbitrary origin, same clock as `monotonicMs`. */
  monotonicNs(): bigint;
  /** Runs `callback` once after `delayMs` of monotonic time (0 or negative: as soon as possible). */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Runs `callback` every `periodMs` of monotonic time until cleared; `periodMs` must be > 0. */
  setInterval(callback: () => void, periodMs: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

/** Longest delay a timer takes: Node's timers are 32-bit and fire at once beyond it (about 24.8 days). */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

export function checkDelay(name: 'delayMs' | 'periodMs', ms: number): void {
  if (ms > MAX_TIMER_DELAY_MS) {
    throw new HalConfigError(
      name,
      `${ms} ms is longer than the longest timer (${MAX_TIMER_DELAY_MS} ms, about 24.8 days)`,
      'schedule a shorter timer and re-arm it, or compare wall-clock dates',
    );
  }
}

/** Resolves after `delayMs` on `clock`; rejects with the signal's reason if aborted first. */
export function sleepMs(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
