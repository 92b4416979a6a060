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
  private lastPulseMs = Number.NaN;
  private lastValidMs = Number.NaN;
  private runClass = -1;
  private run = 0;

  constructor(
    readonly classes: readonly StrobeClassSpec[],
    /** Pulses in a row at one class's rate before it counts (N pulses = N - 1 intervals). */
    readonly consecutivePulses: number,
  ) {}

  /** Class index a pulse interval belongs to, -1 if none. */
  classOf(intervalMs: number): number {
    if (!(intervalMs > 0)) return -1;
    const hz = 1000 / intervalMs;
    for (let i = 0; i < this.classes.length; i++) {
      const c = this.classes[i]!;
      if (Math.abs(hz - c.hz) <= c.toleranceHz) return i;
    }
    return -1;
  }

  /** A detector pulse (rising edge) at `atMs`; returns the detected class index or -1. */
  pulse(atMs: number): number {
    const c = Number.isNaN(this.lastPulseMs) ? -1 : this.classOf(atMs - this.lastPulseMs);
    this.lastPulseMs = atMs;
    if (c < 0) {
      // One missed or stray flash breaks the run but not a detection already made; `expire` ends it.
      this.run = 0;
      this.runClass = -1;
      return this.current;
    }
    if (c === this.runClass) this.run++;
    else {
      this.runClass = c;
      this.run = 1;
    }
    if (this.run >= this.consecutivePulses - 1) {
      this.current = c;
      this.lastValidMs = atMs;
    } else if (c === this.current) {
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
    this.run = 0;
    this.runClass = -1;
    return true;
  }
}
