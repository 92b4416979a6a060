// Restart delays for a supervised process, as a pure function: a crash loop backs off (doubling up
// to a ceiling), a process that ran a while earns a fast restart again.

export interface BackoffPolicy {
  /** First delay after an unexpected exit. */
  minMs: number;
  /** The longest delay. */
  maxMs: number;
  /** A process that ran at least this long before it exited counts as healthy: back to minMs. */
  stableAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { minMs: 500, maxMs: 30_000, stableAfterMs: 60_000 };

/**
 * The delay before the next start, and the delay to remember for the exit after it.
 * `pendingMs` is what the previous exit left (minMs for a fresh process); `ranMs` how long the
 * process ran this time.
 */
export function restartDelay(
  pendingMs: number,
  ranMs: number,
  policy: BackoffPolicy,
): { delayMs: number; nextMs: number } {
  const delayMs = ranMs >= policy.stableAfterMs ? policy.minMs : clamp(pendingMs, policy);
  return { delayMs, nextMs: clamp(delayMs * 2, policy) };
}

function clamp(ms: number, p: BackoffPolicy): number {
  if (!Number.isFinite(ms)) return p.maxMs;
  return Math.min(p.maxMs, Math.max(p.minMs, ms));
}
