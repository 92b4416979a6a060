// Telemetry over HTTP: the gateways' signed batch route (the fallback when their WebSocket is
// down) and the operators' reads of a gateway's channels and one channel's series.

import {
  GATEWAY_HEADERS,
  GATEWAY_TELEMETRY_PATH,
  type TelemetryBatch,
  telemetryAckSchema,
  telemetryBatchSchema,
} from '@brana/protocol';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import {
  ApiRouter,
  parseJsonText,
  RateLimiter,
  readBodyLimited,
  timeParam,
  zodToBadRequest,
} from '../api-kit/index.ts';
import type { FleetDatabase } from '../db/index.ts';
import { requireGateway } from '../devices/index.ts';
import { ForbiddenError, NotFoundError, RateLimitedError, UnauthorizedError } from '../errors.ts';
import { checkBodySignature, decodeTelemetry } from './batch-decoder.ts';
import { telemetryOfParsed } from './columns.ts';
import type { TelemetryPipeline } from './pipeline.ts';
import { channelSeries, listChannels } from './queries.ts';

export interface TelemetryApiDeps {
  database: FleetDatabase;
  pipeline: Pick<TelemetryPipeline, 'ingest'>;
  now(): number;
  /** Largest telemetry batch body, bytes. */
  maxBodyBytes: number;
  /** Telemetry requests per gateway (many gateways may share one NAT address, so not per IP). */
  perGateway: { perSecond: number; burst: number };
}

// The HTTP telemetry path runs per batch: a prepared lookup instead of building the drizzle query
// each time.
function gatewayLookup(sqlite: Database.Database) {
  const stmt = sqlite.prepare('SELECT id, num, status, public_key AS publicKey FROM gateways WHERE id = ?');
  return (id: string) =>
    stmt.get(id) as { id: string; num: number; status: 'active' | 'revoked'; publicKey: string } | undefined;
}

/** A telemetry body the decoder did not take as a plain readings batch: zod says what is wrong. */
function parseTelemetryBody(body: Buffer): TelemetryBatch {
  const json = parseJsonText(body.toString('utf8'));
  const parsed = telemetryBatchSchema.safeParse(json);
  if (!parsed.success) throw zodToBadRequest(parsed.error, 'body', json);
  return parsed.data;
}

/** Mount under `prefix`; the batch route is the protocol's GATEWAY_TELEMETRY_PATH whatever the prefix. */
export function telemetryApi(deps: TelemetryApiDeps, prefix: string): ApiRouter {
  const { database, pipeline, now } = deps;
  if (!GATEWAY_TELEMETRY_PATH.startsWith(`${prefix}/`))
    throw new Error(`${GATEWAY_TELEMETRY_PATH} is not below ${prefix}`);
  const gatewayFor = gatewayLookup(database.sqlite);
  const perGateway = new RateLimiter(deps.perGateway);
  return new ApiRouter()
    .route(
      {
        method: 'post',
        path: GATEWAY_TELEMETRY_PATH.slice(prefix.length),
        summary: 'Telemetry batch over HTTPS (when the WebSocket is down); signed by the gateway key',
        tag: 'gateway',
        access: 'gateway',
        response: telemetryAckSchema,
        rawBody: 'application/json',
        rawBodySchema: telemetryBatchSchema,
      },
      async (c) => {
        const gatewayId = c.req.header(GATEWAY_HEADERS.id);
        const timestamp = c.req.header(GATEWAY_HEADERS.timestamp);
        const signature = c.req.header(GATEWAY_HEADERS.signature);
        if (!gatewayId || !timestamp || !signature) {
          throw new UnauthorizedError(
            `send ${GATEWAY_HEADERS.id}, ${GATEWAY_HEADERS.timestamp} and ${GATEWAY_HEADERS.signature} (see signGatewayRequest)`,
          );
        }
        const gw = gatewayFor(gatewayId);
        if (!gw)
          throw new UnauthorizedError('this gateway is not enrolled here; enrol it with a claim token');
        const body = await readBodyLimited(c, deps.maxBodyBytes);
        // The signature is checked before anything in the body is read, and a revoked or
        // rate-limited gateway is refused before its body is parsed.
        const refused = checkBodySignature(body, {
          method: 'POST',
          path: GATEWAY_TELEMETRY_PATH,
          timestamp,
          signature,
          publicKey: gw.publicKey,
          now: now(),
        });
        if (refused !== null) throw new UnauthorizedError(refused);
        if (gw.status === 'revoked')
          throw new ForbiddenError('this gateway was revoked; re-enrol it with a new claim token');
        const r = perGateway.take(gw.id);
        if (!r.allowed) throw new RateLimitedError(r.retryAfterS);
        const decoded = decodeTelemetry(body, 'batch');
        const batch = decoded.kind === 'readings' ? decoded : telemetryOfParsed(parseTelemetryBody(body));
        return c.json(await pipeline.ingest(gw, batch), 200);
      },
    )
    .route(
      {
        method: 'get',
        path: '/gateways/:id/channels',
        summary: 'Channels a gateway reports',
        tag: 'telemetry',
        access: 'viewer',
      },
      (c) => listChannels(database.sqlite, requireGateway(database.db, c.req.param('id')!, 'id').id),
    )
    .route(
      {
        method: 'get',
        path: '/gateways/:id/series',
        summary: 'One channel over a time range, downsampled to at most maxPoints',
        tag: 'telemetry',
        access: 'viewer',
        query: z.strictObject({
          channel: z.string().min(1),
          from: timeParam,
          to: timeParam,
          maxPoints: z.coerce.number().int().min(1).max(10_000).default(500),
        }),
      },
      (c, { query }) => {
        const g = requireGateway(database.db, c.req.param('id')!, 'id');
        const r = channelSeries(database.sqlite, { gatewayId: g.id, ...query });
        if (!r) throw new NotFoundError('channel', query.channel, { path: 'query.channel' });
        return r;
      },
    );
}
