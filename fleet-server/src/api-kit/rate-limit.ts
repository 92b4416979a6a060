// Token-bucket rate limiting per client. The bucket arithmetic is a pure function; the limiter
// keeps one bucket per key and forgets idle ones so memory stays bounded.

export interface Bucket {
  tokens: number;
  /** Unix ms of the last refill */
  at: number;
}

export interface BucketLimits {
  /** tokens added per second */
  perSecond: number;
  /** bucket size: the burst allowed after idling */
  burst: number;
}

/** Refill to `now`, then take one token if there is one. */
export function takeToken(
  bucket: Bucket | undefined,
  limits: BucketLimits,
  now: number,
): { bucket: Bucket; allowed: boolean; retryAfterS: number } {
  const start = bucket ?? { tokens: limits.burst, at: now };
  const elapsedS = Math.max(0, now - start.at) / 1000;
  const tokens = Math.min(limits.burst, start.tokens + elapsedS * limits.perSecond);
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, at: now }, allowed: true, retryAfterS: 0 };
  return {
    bucket: { tokens, at: now },
    allowed: false,
    retryAfterS: Math.max(1, Math.ceil((1 - tokens) / limits.perSecond)),
  };
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  constructor(
    readonly limits: BucketLimits,
    private readonly maxKeys = 100_000,
  ) {}

  take(key: string, now = Date.now()): { allowed: boolean; retryAfterS: number } {
    const r = takeToken(this.buckets.get(key), this.limits, now);
    this.buckets.delete(key); // re-insert to keep Map order = least recently used first
    this.buckets.set(key, r.bucket);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    return { allowed: r.allowed, retryAfterS: r.retryAfterS };
  }
}
