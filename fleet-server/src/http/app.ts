// The Hono app of the fleet server: middleware (fleet context, body-size limit, per-client rate
// limit, authentication), the API routes, /openapi.json, and one error mapping for everything.

import { GATEWAY_TELEMETRY_PATH } from '@brana/protocol';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { FleetContext } from '../context.ts';
import { FleetError, PayloadTooLargeError, RateLimitedError } from '../errors.ts';
import { ApiRegistry, authenticate, type FleetEnv } from './api.ts';
import { RateLimiter } from './rate-limit.ts';
import { registerRoutes } from './routes.ts';

export interface FleetAppOptions {
  /** Largest accepted request body for operator routes, bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Largest telemetry batch body, bytes (default 8 MiB). */
  maxTelemetryBodyBytes?: number;
  /** Requests per client IP (operator API and enrolment): rate per second and burst. */
  rateLimit?: { perSecond: number; burst: number };
  /** Telemetry requests per gateway over HTTP (default 100/s, burst 400: a backlog drain at 20k readings/s in batches of 500 needs 40/s). */
  gatewayRateLimit?: { perSecond: number; burst: number };
  /** Sign-in attempts per client IP. */
  loginRateLimit?: { perSecond: number; burst: number };
}

export interface FleetApp {
  app: Hono<FleetEnv>;
  registry: ApiRegistry;
}

export function clientKey(c: Parameters<typeof getConnInfo>[0]): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'local'; // app.request() in tests has no socket
  }
}

/**
 * Builds the app. Other modules (the web console) mount onto the returned `app`; they get
 * `c.var.fleet` (the FleetContext) and `c.var.principal` and use requireRole() from this package.
 */
export function createFleetApp(fleet: FleetContext, options: FleetAppOptions = {}): FleetApp {
  const app = new Hono<FleetEnv>();
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const maxTelemetry = options.maxTelemetryBodyBytes ?? 8 * 1024 * 1024;
  const limiter = new RateLimiter(options.rateLimit ?? { perSecond: 50, burst: 200 });
  const loginLimiter = new RateLimiter(options.loginRateLimit ?? { perSecond: 0.2, burst: 10 });

  app.use('*', async (c, next) => {
    c.set('fleet', fleet);
    c.set('principal', null);
    c.header('x-content-type-options', 'nosniff');
    await next();
  });
  app.use('*', async (c, next) => {
    // The telemetry route reads its body itself, under its own limit (see request-body.ts).
    if (c.req.path === GATEWAY_TELEMETRY_PATH) return next();
    return bodyLimit({
      maxSize: maxBody,
      onError: () => {
        throw new PayloadTooLargeError(maxBody);
      },
    })(c, next);
  });
  app.use('*', async (c, next) => {
    // Gateways are limited per gateway inside the telemetry route (many share one NAT address).
    if (c.req.path === GATEWAY_TELEMETRY_PATH || c.req.path === '/healthz') return next();
    const key = clientKey(c);
    const r = limiter.take(key);
    if (!r.allowed) throw new RateLimitedError(r.retryAfterS);
    // Passwords can be guessed, claim tokens (192 random bits) cannot: only sign-in gets the tight limit.
    if (c.req.path === '/api/v1/auth/login') {
      const l = loginLimiter.take(key);
      if (!l.allowed) throw new RateLimitedError(l.retryAfterS);
    }
    await next();
  });
  app.use('/api/*', authenticate());

  const registry = new ApiRegistry(app);
  registerRoutes(registry, new RateLimiter(options.gatewayRateLimit ?? { perSecond: 100, burst: 400 }), {
    maxTelemetryBodyBytes: maxTelemetry,
  });
  app.get('/openapi.json', (c) =>
    c.json(registry.openApi({ title: 'Brána fleet server API', version: '1' })),
  );
  app.get('/healthz', (c) => c.json({ ok: true, gatewaysOnline: fleet.hub.onlineIds().length }));

  app.notFound((c) =>
    c.json(
      {
        code: 'not-found',
        message: `no route ${c.req.method} ${c.req.path}; see /openapi.json`,
        path: c.req.path,
      },
      404,
    ),
  );
  app.onError((err, c) => {
    if (err instanceof FleetError) {
      if (err.retryAfterS !== undefined) c.header('retry-after', String(err.retryAfterS));
      const body: Record<string, unknown> = { code: err.code, message: err.message, path: err.path };
      if (err.details !== undefined) body.details = err.details;
      return c.json(body, err.status as 400);
    }
    if (err instanceof HTTPException) {
      return c.json(
        { code: `http-${err.status}`, message: err.message || 'request refused', path: c.req.path },
        err.status,
      );
    }
    fleet.log.error('request failed', {
      method: c.req.method,
      path: c.req.path,
      error: String(err),
      stack: err.stack,
    });
    return c.json(
      { code: 'internal', message: 'internal error; the server log has the details', path: '' },
      500,
    );
  });
  return { app, registry };
}
