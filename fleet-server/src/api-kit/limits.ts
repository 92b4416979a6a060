// Limits on everything from outside: a body-size limit (the telemetry route reads its own body
// under a larger one) and token-bucket rate limits per client address, tighter for sign-in.
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { PayloadTooLargeError, RateLimitedError } from '../errors.ts';
import { clientKey } from './client.ts';
import { type BucketLimits, RateLimiter } from './rate-limit.ts';

/** Refuses bodies over `maxBytes` with 413, except on the paths in `except`. */
export function bodySizeLimit(maxBytes: number, except: readonly string[]): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new PayloadTooLargeError(maxBytes);
    },
  });
  return async (c, next) => (except.includes(c.req.path) ? next() : limit(c, next));
}

/**
 * Requests per client address (429 with retry-after beyond them); the paths in `tight` take a
 * token from a second, smaller bucket too (sign-in: passwords can be guessed, claim tokens cannot).
 */
export function clientRateLimit(
  limits: { all: BucketLimits; tight: BucketLimits },
  paths: { except: readonly string[]; tight: readonly string[] },
): MiddlewareHandler {
  const all = new RateLimiter(limits.all);
  const tight = new RateLimiter(limits.tight);
  return async (c, next) => {
    if (paths.except.includes(c.req.path)) return next();
    const key = clientKey(c);
    const r = all.take(key);
    if (!r.allowed) throw new RateLimitedError(r.retryAfterS);
    if (paths.tight.includes(c.req.path)) {
      const l = tight.take(key);
      if (!l.allowed) throw new RateLimitedError(l.retryAfterS);
    }
    await next();
  };
}
