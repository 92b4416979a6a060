// The fleet server's HTTP API: limits, who asks, and every feature's routes mounted under /api/v1,
// with /openapi.json generated from their specs and one error mapping for all of them.
import { GATEWAY_HEADERS, GATEWAY_TELEMETRY_PATH } from '@brana/protocol';
import { Hono } from 'hono';
import {
  type ApiEnv,
  type ApiRouter,
  apiErrorHandler,
  apiNotFound,
  bodySizeLimit,
  clientRateLimit,
  openApiDocument,
} from '../api-kit/index.ts';
import { auditApi } from '../audit/index.ts';
import { authApi, authenticate, SESSION_COOKIE } from '../auth/index.ts';
import { configsApi } from '../configs/index.ts';
import { devicesApi } from '../devices/index.ts';
import { energyApi } from '../energy/index.ts';
import { enrolmentApi } from '../enrolment/index.ts';
import { eventsApi } from '../events/index.ts';
import type { FleetServices } from '../fleet.ts';
import { rolloutsApi } from '../rollouts/index.ts';
import { telemetryApi } from '../telemetry/index.ts';

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

const API = '/api/v1';

export function createFleetApp(fleet: FleetServices, options: FleetAppOptions = {}): Hono<ApiEnv> {
  const { database, now } = fleet;
  const { db, sqlite } = database;
  const app = new Hono<ApiEnv>();
  app.use('*', async (c, next) => {
    c.set('principal', null);
    c.header('x-content-type-options', 'nosniff');
    await next();
  });
  app.use('*', bodySizeLimit(options.maxBodyBytes ?? 1024 * 1024, [GATEWAY_TELEMETRY_PATH]));
  app.use(
    '*',
    clientRateLimit(
      {
        all: options.rateLimit ?? { perSecond: 50, burst: 200 },
        tight: options.loginRateLimit ?? { perSecond: 0.2, burst: 10 },
      },
      // Gateways are limited per gateway inside the telemetry route (many share one NAT address).
      { except: [GATEWAY_TELEMETRY_PATH, '/healthz'], tight: [`${API}/auth/login`] },
    ),
  );
  app.use('/api/*', authenticate({ db, now }));

  const routers: ApiRouter[] = [
    authApi({ db, now }),
    auditApi({ db }),
    devicesApi({ db, live: fleet.sessions, now }),
    enrolmentApi({ db, serverPublicKey: fleet.serverKey.publicKey, now }, API),
    telemetryApi(
      {
        database,
        pipeline: fleet.telemetry,
        now,
        maxBodyBytes: options.maxTelemetryBodyBytes ?? 8 * 1024 * 1024,
        perGateway: options.gatewayRateLimit ?? { perSecond: 100, burst: 400 },
      },
      API,
    ),
    configsApi({ db, validate: fleet.validateConfig, serverKey: fleet.serverKey.privateKey, now }),
    rolloutsApi({ rollouts: fleet.rollouts }),
    energyApi({ sqlite }),
    eventsApi({ sqlite }),
  ];
  for (const r of routers) app.route(API, r.app);
  const spec = openApiDocument(
    { title: 'Brána fleet server API', version: '1' },
    routers.map((r) => ({ prefix: API, specs: r.specs })),
    { sessionCookie: SESSION_COOKIE, gatewaySignatureHeader: GATEWAY_HEADERS.signature },
  );
  app.get('/openapi.json', (c) => c.json(spec));
  app.get('/healthz', (c) => c.json({ ok: true, gatewaysOnline: fleet.sessions.onlineIds().length }));
  app.notFound(apiNotFound);
  app.onError(apiErrorHandler(fleet.log));
  return app;
}
