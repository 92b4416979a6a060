// Time for simulators. Every model reads the time from a Clock so the bench can run in real time
// (latency benchmarks) or faster (a day of quarter-hours in minutes).

export interface Clock {
  /** Milliseconds since the Unix epoch, in the simulated world. */
  nowMs(): number;
}

export const realClock: Clock = { nowMs: () => Date.now() };

/**
 * A clock that starts at `startMs` (default now) and runs `speed` times faster than real time.
 * speed 96 turns a day of 96 quarter-hours into 15 minutes.
 */
export function scaledClock(speed: number, startMs = Date.now()): Clock {
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new RangeError(`clock speed ${speed} must be a positive number`);
  const realStart = performance.now();
  return { nowMs: () => startMs + (performance.now() - realStart) * speed };
}

/** A clock that moves only when told to; for tests. */
export class ManualClock implements Clock {
  constructor(private ms = 0) {}
  nowMs(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}
