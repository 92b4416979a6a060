// Poll classes scheduled by due time, per device. Pure: the engine passes monotonic time in.
// `fast` and `slow` repeat on a fixed grid (a late poll does not shift later ones, and missed
// slots are skipped rather than caught up in a burst); `once` points (serial number, firmware
// version) are read on first contact and again whenever the device comes back online, which is
// also how a swapped meter is noticed.
import type { PollClass } from './types.ts';

export interface PollPeriods {
  fastMs: number;
  slowMs: number;
}

export interface PollSchedule {
  /** Monotonic due times; `once` is null when nothing is owed. */
  fast: number;
  slow: number;
  once: number | null;
}

export const POLL_CLASS_ORDER: readonly PollClass[] = ['fast', 'slow', 'once'];

export function initialSchedule(nowMs: number): PollSchedule {
  return { fast: nowMs, slow: nowMs, once: nowMs };
}

/** Earliest monotonic time at which some class is due. */
export function nextDueMs(s: PollSchedule): number {
  return Math.min(s.fast, s.slow, s.once ?? Number.POSITIVE_INFINITY);
}

/**
 * Classes to read at `nowMs`: those due, plus those due within `pullInMs` so that one round trip
 * serves them together (reads are coalesced across classes).
 */
export function dueClasses(s: PollSchedule, nowMs: number, pullInMs = 0): PollClass[] {
  const due: PollClass[] = [];
  const horizon = nowMs + Math.max(0, pullInMs);
  if (s.fast <= horizon) due.push('fast');
  if (s.slow <= horizon) due.push('slow');
  if (s.once !== null && s.once <= horizon) due.push('once');
  // Pulling in only makes sense when something is actually due now.
  return due.length > 0 && nextDueMs(s) <= nowMs ? due : [];
}

/** Next slot on the grid `due + k·period` strictly after `nowMs`. */
export function nextSlot(dueMs: number, periodMs: number, nowMs: number): number {
  if (dueMs > nowMs) return dueMs + periodMs;
  const k = Math.floor((nowMs - dueMs) / periodMs) + 1;
  return dueMs + k * periodMs;
}

/**
 * The schedule after polling `classes` at `nowMs`. `onceDone`: the `once` points were read
 * successfully (a failed read keeps them owed, one slow period later).
 */
export function afterPoll(
  s: PollSchedule,
  classes: readonly PollClass[],
  nowMs: number,
  periods: PollPeriods,
  onceDone = true,
): PollSchedule {
  return {
    fast: classes.includes('fast') ? nextSlot(s.fast, periods.fastMs, nowMs) : s.fast,
    slow: classes.includes('slow') ? nextSlot(s.slow, periods.slowMs, nowMs) : s.slow,
    // A failed once-read is owed again a slow period later, not at once: a device that refuses
    // it (exception) must not have the bus hammered.
    once: classes.includes('once') ? (onceDone ? null : nowMs + periods.slowMs) : s.once,
  };
}

/** Owe the `once` points again (the device came back online). */
export function rearmOnce(s: PollSchedule, nowMs: number): PollSchedule {
  return { ...s, once: Math.min(s.once ?? nowMs, nowMs) };
}
