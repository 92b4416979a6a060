// Token buckets for the local API: each caller (a token, or "anonymous" for refused requests) may
// spend `burst` requests at once and then `ratePerS` a second. Pure: the state is a value.

export interface Bucket {
  tokens: number;
  atMs: number;
}

export interface BucketLimit {
  ratePerS: number;
  burst: number;
}

export type Take = { ok: true; bucket: Bucket } | { ok: false; bucket: Bucket; retryAfterMs: number };

export function take(bucket: Bucket | undefined, limit: BucketLimit, nowMs: number): Take {
  const prev = bucket ?? { tokens: limit.burst, atMs: nowMs };
  // A clock that steps back refills nothing (and takes nothing away).
  const elapsed = Math.max(0, nowMs - prev.atMs);
  const tokens = Math.min(limit.burst, prev.tokens + (elapsed * limit.ratePerS) / 1000);
  const atMs = Math.max(prev.atMs, nowMs);
  if (tokens >= 1) return { ok: true, bucket: { tokens: tokens - 1, atMs } };
  return {
    ok: false,
    bucket: { tokens, atMs },
    retryAfterMs: Math.ceil(((1 - tokens) * 1000) / limit.ratePerS),
  };
}

/** Buckets by key, bounded: the least recently used keys are forgotten beyond `maxKeys`. */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  constructor(
    private readonly limit: BucketLimit,
    private readonly maxKeys = 1000,
  ) {}

  take(key: string, nowMs: number): { ok: true } | { ok: false; retryAfterMs: number } {
    const r = take(this.#buckets.get(key), this.limit, nowMs);
    this.#buckets.delete(key);
    this.#buckets.set(key, r.bucket);
    if (this.#buckets.size > this.maxKeys) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
    return r.ok ? { ok: true } : { ok: false, retryAfterMs: r.retryAfterMs };
  }
}
