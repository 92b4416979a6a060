// S0 pulse inputs (IEC 62053-31): a meter closes a contact for ≥ 30 ms per impulse, e.g. 1000
// impulses per kWh. Pure edge logic: a pulse counts when its ON time reaches `debounceMs`; an OFF
// gap shorter than `debounceMs` is contact bounce and joins the two halves into one pulse. The
// rate (power, flow) comes from the period between the starts of the last two pulses and decays
// as 1/t once no pulse has come for longer than that period, so a load switched off reads
// falling towards zero rather than frozen at its last value.

export interface S0State {
  /** Pulses counted since the input was first configured (persisted). */
  count: number;
  /** Monotonic ms the line went ON, while it is ON. */
  onSinceMs: number | null;
  /** Monotonic ms the line went OFF, while it is OFF. */
  offSinceMs: number | null;
  /** Start of the pulse being timed (kept across a bounce). */
  pulseStartMs: number | null;
  /** The pulse being timed has already been counted. */
  pulseCounted: boolean;
  /** Start of the last counted pulse. */
  lastPulseMs: number | null;
  /** Time between the starts of the last two counted pulses. */
  periodMs: number | null;
}

export interface S0Options {
  debounceMs: number;
}

/** State after a restart: the persisted count, no timing yet. */
export function s0Initial(count = 0): S0State {
  return {
    count,
    onSinceMs: null,
    offSinceMs: null,
    pulseStartMs: null,
    pulseCounted: false,
    lastPulseMs: null,
    periodMs: null,
  };
}

/** Applies one edge (logical level after active-low inversion). `counted`: this edge completed a pulse. */
export function s0Edge(
  s: S0State,
  level: 0 | 1,
  atMs: number,
  o: S0Options,
): { state: S0State; counted: boolean } {
  if (level === 1) {
    if (s.onSinceMs !== null) return { state: s, counted: false };
    const bounce = s.offSinceMs !== null && s.pulseStartMs !== null && atMs - s.offSinceMs < o.debounceMs;
    return {
      state: {
        ...s,
        onSinceMs: atMs,
        offSinceMs: null,
        pulseStartMs: bounce ? s.pulseStartMs : atMs,
        pulseCounted: bounce ? s.pulseCounted : false,
      },
      counted: false,
    };
  }
  if (s.onSinceMs === null) return { state: s, counted: false };
  const start = s.pulseStartMs ?? s.onSinceMs;
  const next: S0State = { ...s, onSinceMs: null, offSinceMs: atMs };
  if (s.pulseCounted || atMs - start < o.debounceMs) return { state: next, counted: false };
  return {
    state: {
      ...next,
      count: s.count + 1,
      pulseCounted: true,
      lastPulseMs: start,
      periodMs: s.lastPulseMs === null ? null : start - s.lastPulseMs,
    },
    counted: true,
  };
}

/**
 * Rate in units per hour (kW for a kWh meter, m³/h for a water meter) at `nowMs`; null until two
 * pulses have been seen. 0 once nothing has come for `zeroAfterMs`.
 */
export function s0RatePerH(
  s: S0State,
  nowMs: number,
  impulsesPerUnit: number,
  zeroAfterMs = 3_600_000,
): number | null {
  if (s.periodMs === null || s.lastPulseMs === null) return null;
  const since = nowMs - s.lastPulseMs;
  if (since >= zeroAfterMs) return 0;
  const periodMs = Math.max(s.periodMs, since);
  if (periodMs <= 0) return null;
  return 3_600_000 / (periodMs * impulsesPerUnit);
}

/** Counted use in units (kWh, m³). */
export function s0Total(s: S0State, impulsesPerUnit: number): number {
  return s.count / impulsesPerUnit;
}
