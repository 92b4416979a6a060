// Which device a single-flight lane serves next. Pure: the engine passes each device's readiness
// and the moment the line is free. A device's inter-frame delay runs from the end of ITS last
// transaction, so while one device rests the line can serve another: on an RTU line with several
// devices the delays beyond t3.5 cost nothing as long as someone else has a read to do.

export interface TurnCandidate {
  /**
   * Monotonic ms from which this device may be sent its next request: when its poll is due (or a
   * retry's backoff ends), never before the end of its last transaction plus its own delay.
   */
  readyAtMs: number;
  /** When the poll this request belongs to became due. Among devices ready together the oldest goes first. */
  dueAtMs: number;
}

export interface Turn {
  index: number;
  /** When the request may start: the later of the device being ready and the line's silence ending. */
  startAtMs: number;
}

/**
 * The candidate that can start first once the line is free at `lineFreeAtMs` (the end of the last
 * transaction plus t3.5); ties go to the oldest due poll (so a poll in progress is finished before
 * new ones are begun), then to the lowest index. `undefined` when there is no candidate.
 */
export function nextTurn(candidates: readonly TurnCandidate[], lineFreeAtMs: number): Turn | undefined {
  let best: Turn | undefined;
  let bestDue = 0;
  for (const [index, c] of candidates.entries()) {
    const startAtMs = Math.max(c.readyAtMs, lineFreeAtMs);
    if (
      best === undefined ||
      startAtMs < best.startAtMs ||
      (startAtMs === best.startAtMs && c.dueAtMs < bestDue)
    ) {
      best = { index, startAtMs };
      bestDue = c.dueAtMs;
    }
  }
  return best;
}
