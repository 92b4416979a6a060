// Classifies the flash rate an optical priority detector reports (one GPIO pulse per flash):
// about 14 Hz is an emergency vehicle, about 10 Hz transit. Rates, tolerances and the number of
// consecutive pulses come from the detector's device profile. Fixed-size state, no allocation.

export interface StrobeClassSpec {
  readonly name: string;
  readonly hz: number;
  readonly toleranceHz: number;
}

export class StrobeClassifier {
  /** Index into `classes` of the class currently detected, -1 for none. */
  current = -1;
  private lastValidMs = Number.NaN;
  // The last `consecutivePulses` pulse times, a ring.
  private readonly times: Float64Array;
  private next = 0;
  private count = 0;

  constructor(
    readonly classes: readonly StrobeClassSpec[],
    /** Pulses in a row at one class's rate before it counts (N pulses = N - 1 intervals). */
    readonly consecutivePulses: number,
  ) {
    this.times = new Float64Array(Math.max(2, consecutivePulses));
  }

  /** Class index of a flash rate, -1 if none. */
  classOf(hz: number): number {
    for (let i = 0; i < this.classes.length; i++) {
      const c = this.classes[i]!;
      if (Math.abs(hz - c.hz) <= c.toleranceHz) return i;
    }
    return -1;
  }

  /**
   * A detector pulse (rising edge) at `atMs`; returns the detected class index or -1.
   * The rate is taken over the whole window of pulses, so flash jitter averages out; an interval
   * far from the window's mean (a missed or stray flash) voids the window.
   */
  pulse(atMs: number): number {
    const n = this.times.length;
    this.times[this.next] = atMs;
    this.next = (this.next + 1) % n;
    if (this.count < n) this.count++;
    if (this.count < n) return this.current;
    const oldest = this.times[this.next]!;
    const meanMs = (atMs - oldest) / (n - 1);
    if (!(meanMs > 0)) return this.current;
    let prev = oldest;
    for (let k = 1; k < n; k++) {
      const t = this.times[(this.next + k) % n]!;
      const d = t - prev;
      if (d < 0.5 * meanMs || d > 1.5 * meanMs) return this.current;
      prev = t;
    }
    const c = this.classOf(1000 / meanMs);
    if (c >= 0) {
      this.current = c;
      this.lastValidMs = atMs;
    }
    return this.current;
  }

  /** Ends a detection once no pulse at its rate came for three periods; true when it just ended. */
  expire(nowMs: number): boolean {
    if (this.current < 0) return false;
    const periodMs = 1000 / this.classes[this.current]!.hz;
    if (nowMs - this.lastValidMs <= 3 * periodMs) return false;
    this.current = -1;
    this.count = 0;
    return true;
  }
}
