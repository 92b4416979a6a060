// Pulse trains on bench wire lines: S0 impulse outputs of energy and water meters (IEC 62053-31:
// a closed contact of at least 30 ms per impulse) and the strobe flashes an optical priority
// detector sees (about 14 Hz for emergency vehicles, about 10 Hz for transit).

import { sleepUntil } from '../modbus-sim/sleep.ts';
import { type Random, uniform } from '../sim/random.ts';
import type { Wires } from './types.ts';

export interface PulseTrain {
  /** Pulses started so far. */
  count(): number;
  stop(): Promise<void>;
  /** Resolves when a finite train has sent its last pulse (or was stopped). */
  done: Promise<void>;
}

export interface S0PulseOptions {
  /** Impulses per kWh or per m³, from the meter's profile. */
  impulsesPerUnit: number;
  /** Current rate in units per hour: kW for an energy meter (W / 1000), m³/h for a water meter. */
  ratePerHour: () => number;
  /** ON time of each impulse, 30-100 ms. Default 50. */
  pulseMs?: number;
  /** Simulated time runs this many times faster than real time. Default 1. */
  speed?: number;
}

/** Milliseconds between S0 impulses at a rate (units per hour) and impulses per unit, in simulated time. */
export function s0IntervalMs(ratePerHour: number, impulsesPerUnit: number): number {
  return ratePerHour > 0 ? 3_600_000 / (ratePerHour * impulsesPerUnit) : Number.POSITIVE_INFINITY;
}

function pulse(wires: Wires, line: string, widthMs: number): Promise<void> {
  const end = performance.now() + widthMs;
  return wires.set(line, 1).then(() => sleepUntil(end).then(() => wires.set(line, 0)));
}

/**
 * Drive S0 impulses on `line` at the rate given by `ratePerHour()`, re-read before each impulse.
 * With a fast clock the gap never shrinks below one pulse width, so impulses stay countable.
 */
export function startS0Pulses(wires: Wires, line: string, options: S0PulseOptions): PulseTrain {
  const pulseMs = options.pulseMs ?? 50;
  if (pulseMs < 30 || pulseMs > 100) throw new RangeError(`S0 pulse width ${pulseMs} ms must be 30-100 ms`);
  const speed = options.speed ?? 1;
  let stopped = false;
  let n = 0;
  let wake: (() => void) | undefined;
  const done = (async () => {
    let next = performance.now();
    while (!stopped) {
      const interval = s0IntervalMs(options.ratePerHour(), options.impulsesPerUnit) / speed;
      if (!Number.isFinite(interval)) {
        next = performance.now() + 1000;
      } else {
        next += Math.max(interval, 2 * pulseMs);
        const now = performance.now();
        // After a long stall, start again from now rather than firing a burst.
        if (next < now) next = now;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        sleepUntil(next).then(resolve);
      });
      if (stopped) break;
      if (Number.isFinite(interval)) {
        n++;
        await pulse(wires, line, pulseMs).catch(() => {
          stopped = true;
        });
      }
    }
  })();
  return {
    count: () => n,
    done,
    stop: async () => {
      stopped = true;
      wake?.();
      await done;
    },
  };
}

export interface StrobeOptions {
  /** Flash frequency, e.g. 14 (emergency) or 10 (transit). */
  hz: number;
  pulses: number;
  /** Detector output pulse width. Default 10 ms. */
  pulseMs?: number;
  /** Uniform jitter on each flash time, ms. Default 0. */
  jitterMs?: number;
  /** Chance a flash is not seen. Default 0. */
  missProbability?: number;
  random?: Random;
}

/** Send `pulses` detector pulses at `hz` on `line`, scheduled on absolute times so they never drift. */
export function startStrobe(wires: Wires, line: string, options: StrobeOptions): PulseTrain {
  const periodMs = 1000 / options.hz;
  const pulseMs = options.pulseMs ?? 10;
  if (!(options.hz > 0) || pulseMs >= periodMs) {
    throw new RangeError(
      `strobe at ${options.hz} Hz needs a pulse shorter than its period ${periodMs.toFixed(1)} ms`,
    );
  }
  const random = options.random ?? Math.random;
  const jitter = options.jitterMs ?? 0;
  let stopped = false;
  let n = 0;
  const start = performance.now();
  const done = (async () => {
    for (let i = 0; i < options.pulses && !stopped; i++) {
      const at = start + i * periodMs + (jitter > 0 ? uniform(random, -jitter, jitter) : 0);
      await sleepUntil(at);
      if (stopped) break;
      if ((options.missProbability ?? 0) > 0 && random() < (options.missProbability ?? 0)) continue;
      n++;
      await pulse(wires, line, pulseMs);
    }
  })();
  return {
    count: () => n,
    done,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}
