// Counters (energy, volume) as monotonic totals. A meter's register can go down for three
// reasons, and each must be booked differently:
//   rollover     a 16/32-bit register wrapped past its top: the wrapped difference is real use;
//   reset        the meter was cleared and counts again from zero: what it shows now is real use;
//   replacement  another meter sits at the address (new serial number, or a reading that is
//                neither small nor a wrap): its starting reading is not use; book nothing.
// The total starts at the first reading seen, so it matches the meter display until the first
// reset or replacement, and never decreases. The state is plain JSON so it survives restarts.

export type CounterEvent = 'first' | 'rollover' | 'reset' | 'replaced' | 'jump';

export interface CounterState {
  /** Monotonic total in engineering units (kWh, m³). */
  total: number;
  /** Last engineering value the meter showed. */
  lastValue: number;
  /** Last raw register value (integers up to 32 bits), for rollover detection. */
  lastRaw: number | null;
  /** Serial number (or other identity) of the meter that gave `lastValue`, when the profile has one. */
  serial?: string;
  /** Wall time of the last reading, ms. */
  atMs: number;
}

export interface CounterReading {
  /** Engineering value (raw · scale + offset). */
  value: number;
  /** Raw register value; bigint for 64-bit registers. */
  raw: number | bigint;
  atMs: number;
  serial?: string;
}

export interface CounterOptions {
  /** Width of the raw integer register when it can wrap (u16: 16, u32: 32); null for floats and 64-bit. */
  rawBits: 16 | 32 | null;
  /** Engineering units per raw step. */
  scale: number;
  /**
   * Highest believable use per hour (e.g. the supply's max power in kW for a kWh counter). Bounds a
   * rollover, a post-reset reading and an upward jump. Without it: wraps within 1/8 of the register
   * range, resets to at most 1 % of the previous reading, and no upward limit.
   */
  maxRatePerH?: number;
}

export interface CounterStep {
  state: CounterState;
  /** Use booked by this reading (≥ 0). */
  delta: number;
  event?: CounterEvent;
}

/** Fraction of the register range a wrap may cover between two readings. */
export const ROLLOVER_WINDOW = 1 / 8;
/** A reading this small relative to the previous one is a reset to zero, not a swapped meter. */
export const RESET_FRACTION = 0.01;

/** Float registers are not exact: a drop this small is noise, not a reset. */
function noiseOf(value: number, scale: number): number {
  return Math.max(Math.abs(value) * 1e-6, Math.abs(scale) * 1e-9);
}

export function counterStep(
  prev: CounterState | undefined,
  r: CounterReading,
  o: CounterOptions,
): CounterStep {
  const raw = typeof r.raw === 'number' && o.rawBits !== null ? r.raw : null;
  const next = (total: number): CounterState => ({
    total,
    lastValue: r.value,
    lastRaw: raw,
    ...(r.serial !== undefined
      ? { serial: r.serial }
      : prev?.serial !== undefined
        ? { serial: prev.serial }
        : {}),
    atMs: r.atMs,
  });
  if (!prev) return { state: next(r.value), delta: 0, event: 'first' };

  const hours = Math.max(0, r.atMs - prev.atMs) / 3_600_000;
  // Allow a minute of clock slack so a reading right after a restart is not judged too strictly.
  const budget = o.maxRatePerH === undefined ? undefined : o.maxRatePerH * (hours + 1 / 60);

  if (r.serial !== undefined && prev.serial !== undefined && r.serial !== prev.serial) {
    return { state: next(prev.total), delta: 0, event: 'replaced' };
  }
  const diff = r.value - prev.lastValue;
  if (diff >= -noiseOf(prev.lastValue, o.scale)) {
    const delta = Math.max(0, diff);
    if (budget !== undefined && delta > budget) {
      return { state: next(prev.total), delta: 0, event: 'jump' };
    }
    // Noise below the last value keeps the old baseline, so the total never steps back.
    if (diff < 0)
      return { state: { ...next(prev.total), lastValue: prev.lastValue, lastRaw: prev.lastRaw }, delta: 0 };
    return { state: next(prev.total + delta), delta };
  }

  if (raw !== null && prev.lastRaw !== null && o.rawBits !== null && raw < prev.lastRaw) {
    const modulus = 2 ** o.rawBits;
    const wrappedRaw = raw + modulus - prev.lastRaw;
    const delta = wrappedRaw * Math.abs(o.scale);
    const inWindow = wrappedRaw <= modulus * ROLLOVER_WINDOW;
    if (inWindow && (budget === undefined || delta <= budget)) {
      return { state: next(prev.total + delta), delta, event: 'rollover' };
    }
  }
  const smallEnough = budget !== undefined ? r.value <= budget : r.value <= prev.lastValue * RESET_FRACTION;
  if (r.value >= 0 && smallEnough) {
    return { state: next(prev.total + r.value), delta: r.value, event: 'reset' };
  }
  return { state: next(prev.total), delta: 0, event: 'replaced' };
}

/** Register width for rollover detection of a point type. */
export function rolloverBits(type: string): 16 | 32 | null {
  if (type === 'u16') return 16;
  if (type === 'u32') return 32;
  return null;
}
