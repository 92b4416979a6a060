// The local API's HTTP routes (Hono): a mount table over the parts made in local-api.ts. Every
// route but /api/health and /api/openapi.json needs a token with the route's scope.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { type AlarmService, alarmBodySchema } from './alarm-service.ts';
import { ApiError } from './api-error.ts';
import { isTimeZone, STEPS } from './buckets.ts';
import type { Catalog } from './catalog.ts';
import type { History } from './history.ts';
import { channelPatterns, checkChannelPattern, topicChannel } from './patterns.ts';
import { type Guard, RouteTable } from './registry.ts';
import { type Relays, relayBodySchema } from './relays.ts';
import { STREAM_LIMITS, subscribeSchema } from './stream.ts';

export const STREAM_PATH = '/api/stream';

export interface LocalApiLimits {
  /** Largest request body, bytes. */
  bodyBytes: number;
  readsPerS: number;
  readBurst: number;
  writesPerS: number;
  writeBurst: number;
  /** Requests with a missing or wrong token, all together. */
  refusedAuthPerS: number;
  refusedAuthBurst: number;
  /** Stream connections at once. */
  subscribers: number;
  /** Buckets one history query may return. */
  historyBuckets: number;
  /** Values one last-values query may return. */
  lastValues: number;
}

export const DEFAULT_LIMITS: LocalApiLimits = {
  bodyBytes: 16 * 1024,
  readsPerS: 50,
  readBurst: 200,
  writesPerS: 10,
  writeBurst: 30,
  refusedAuthPerS: 5,
  refusedAuthBurst: 20,
  subscribers: 32,
  historyBuckets: 3000,
  lastValues: 5000,
};

export interface AppParts {
  guard: Guard;
  limits: LocalApiLimits;
  history: History;
  alarms: AlarmService;
  relays: Relays;
  catalog: () => Catalog;
  status: () => object;
  journal: () => unknown;
  config: () => unknown;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** Unix ms or an ISO 8601 date-time with offset. */
const timeParam = z.union(
  [
    z
      .string()
      .regex(/^\d{1,15}$/)
      .transform(Number),
    z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
  ],
  { error: 'expected Unix milliseconds or an ISO 8601 time with offset, e.g. 2025-06-02T00:00:00+02:00' },
);

const lastQuery = z.strictObject({
  channels: z
    .string()
    .max(4000)
    .default('*')
    .describe('comma-separated channel patterns device/point with *, e.g. "main-meter/*,*/co2Ppm"'),
});

const historyQuery = z.strictObject({
  channel: z.string().min(1).max(200).describe('one channel, device/point, e.g. main-meter/energyImportKWh'),
  from: timeParam.describe('start, Unix ms or ISO 8601'),
  to: timeParam.optional().describe('end (exclusive), default now'),
  step: z.enum(STEPS).default('1h').describe("15m (the gateway's quarter hours), 1h or 1d (local time)"),
  tz: z.string().max(64).default('Europe/Prague').describe('time zone of hours and days'),
});

const relayParams = z.object({ relay: z.string().min(1).max(100) });
const alarmParams = z.object({ alarm: z.string().min(1).max(64) });

export function createLocalApiApp(parts: AppParts): { app: Hono; openApi: () => object } {
  const app = new Hono();
  const table = new RouteTable(app, parts.guard);
  const { refusals } = parts.guard;

  app.use(
    '*',
    bodyLimit({
      maxSize: parts.limits.bodyBytes,
      onError: (c) => {
        refusals.tooLarge++;
        const err = new ApiError(413, 'too-large', `body: over ${parts.limits.bodyBytes} bytes`, {
          field: 'body',
        });
        return c.json(err.body(), 413);
      },
    }),
  );

  table.add({ method: 'get', path: '/api/health', summary: 'Liveness (no token)', scope: 'public' }, () => ({
    ok: true,
  }));
  table.add(
    {
      method: 'get',
      path: '/api/status',
      summary: "The agent's status with the local API's own counters",
      scope: 'read',
    },
    () => parts.status(),
  );
  table.add({ method: 'get', path: '/api/journal', summary: 'Journal statistics', scope: 'read' }, () =>
    parts.journal(),
  );
  table.add({ method: 'get', path: '/api/config', summary: 'Config apply state', scope: 'read' }, () =>
    parts.config(),
  );
  table.add(
    {
      method: 'get',
      path: '/api/catalog',
      summary:
        'Devices with their channels, relays with owner and state, alarm inputs and event types, from the running config',
      scope: 'read',
    },
    () => parts.catalog(),
  );
  table.add(
    {
      method: 'get',
      path: '/api/history/last',
      summary: 'The last value of each matching channel',
      scope: 'read',
      query: lastQuery,
    },
    ({ query }) => {
      const patterns = query.channels.split(',').map((p, i) => {
        const c = checkChannelPattern(p.trim());
        if (!c.ok)
          throw new ApiError(400, 'bad-request', `query.channels[${i}]: ${c.message}`, {
            field: `query.channels[${i}]`,
          });
        return c.pattern;
      });
      if (patterns.length > STREAM_LIMITS.patternsPerKind) {
        throw new ApiError(
          400,
          'bad-request',
          `query.channels: at most ${STREAM_LIMITS.patternsPerKind} patterns`,
          {
            field: 'query.channels',
          },
        );
      }
      return { values: parts.history.last(channelPatterns(patterns), parts.limits.lastValues) };
    },
  );
  table.add(
    {
      method: 'get',
      path: '/api/history',
      summary:
        "One channel over a time range by quarter hour, hour or local day: counters as sums of the gateway's quarter-hour intervals, gauges as avg/min/max",
      scope: 'read',
      query: historyQuery,
    },
    ({ query }) => {
      const c = checkChannelPattern(query.channel);
      if (!c.ok || c.pattern.includes('*')) {
        throw new ApiError(
          400,
          'bad-request',
          `query.channel: ${c.ok ? 'name one channel, without *' : c.message}`,
          {
            field: 'query.channel',
          },
        );
      }
      if (!isTimeZone(query.tz)) {
        throw new ApiError(
          400,
          'bad-request',
          `query.tz: "${query.tz}" is not a time zone; use an IANA name like Europe/Prague`,
          {
            field: 'query.tz',
          },
        );
      }
      const to = query.to ?? parts.guard.nowMs();
      if (to <= query.from) {
        throw new ApiError(400, 'bad-request', 'query.to: must be after query.from', { field: 'query.to' });
      }
      const channel = topicChannel(c.pattern);
      const result = parts.history.range(
        channel,
        query.from,
        to,
        query.step,
        query.tz,
        parts.limits.historyBuckets,
      );
      if (!result) {
        throw new ApiError(
          400,
          'bad-request',
          `query.step: ${query.step} over this range gives more than ${parts.limits.historyBuckets} buckets`,
          {
            field: 'query.step',
            fix: 'use a larger step or a shorter range',
          },
        );
      }
      return { topic: c.pattern, step: query.step, tz: query.tz, from: query.from, to, ...result };
    },
  );
  table.add(
    {
      method: 'get',
      path: '/api/relays',
      summary: 'Relays with owner (rules or flows) and last known state',
      scope: 'read',
    },
    () => ({ relays: parts.catalog().relays }),
  );
  table.add(
    {
      method: 'post',
      path: '/api/relays/:relay',
      summary:
        'Switch a relay the config gives to flows (owner: flows); rt checks ownership and refuses any other',
      scope: 'relay',
      params: relayParams,
      body: relayBodySchema,
      errors: {
        403: 'the relay is not owned by flows',
        404: 'no such relay',
        503: 'rt not connected or not answering',
      },
    },
    ({ params, body }) => parts.relays.set(params.relay ?? '', body),
  );
  table.add(
    { method: 'get', path: '/api/alarms', summary: 'Operator alarms and their states', scope: 'read' },
    () => ({
      alarms: parts.alarms.list(),
    }),
  );
  for (const [action, verb] of [
    ['raise', 'Raise (or escalate) an operator alarm: a safety event alarm.raised to the fleet'],
    ['ack', 'Acknowledge a raised operator alarm (alarm.acknowledged)'],
    ['clear', 'Clear an operator alarm (alarm.cleared); clearing one not raised changes nothing'],
  ] as const) {
    table.add(
      {
        method: 'post',
        path: `/api/alarms/:alarm/${action}`,
        summary: verb,
        scope: 'alarm',
        params: alarmParams,
        body: alarmBodySchema,
        errors: {
          409: 'the alarm is not in a state this applies to, or the name is an alarm input',
          503: 'the journal cannot take it now',
        },
      },
      ({ params, body }) => parts.alarms.act(params.alarm ?? '', action, body),
    );
  }
  const description =
    "The gateway's local API for Node-RED flows and technicians. Listens on the Unix socket <dataDir>/local-api.sock (and on localApi.port on 127.0.0.1 when configured). " +
    `Live records: WebSocket ${STREAM_PATH} (token with the read scope), then send {"op":"subscribe", readings, intervals, events, queue}.`;
  const openApi = () =>
    table.openApi({
      description,
      paths: {
        [STREAM_PATH]: {
          get: {
            summary: 'WebSocket: live readings, quarter-hour intervals and events, filtered per subscriber',
            description:
              'Upgrade to WebSocket with a read token. Send a subscribe message (schema below); the server answers {"type":"subscribed"} or {"type":"error","field","message"}, ' +
              'then {"type":"records","records":[…]} as records are committed, and {"type":"dropped","count","total"} before records when the queue overflowed.',
            security: [{ token: ['read'] }],
            'x-brana-scope': 'read',
            'x-subscribe-message': z.toJSONSchema(subscribeSchema, { io: 'input', target: 'draft-2020-12' }),
            responses: {
              101: { description: 'Switching protocols' },
              401: { $ref: '#/components/responses/Error' },
            },
          },
        },
      },
    });
  table.add({ method: 'get', path: '/api/openapi.json', summary: 'This description', scope: 'public' }, () =>
    openApi(),
  );

  app.notFound((c) => {
    refusals.notFound++;
    const err = new ApiError(404, 'not-found', `no route ${c.req.method} ${c.req.path}`, {
      fix: 'see /api/openapi.json for the routes',
    });
    return c.json(err.body(), 404);
  });
  app.onError((err, c) => {
    if (err instanceof ApiError) {
      if (err.status === 400) refusals.badRequest++;
      if (err.status === 409) refusals.conflict++;
      if (err.retryAfterS !== undefined) c.header('Retry-After', String(err.retryAfterS));
      return c.json(err.body(), err.status);
    }
    parts.log('error', `local API ${c.req.method} ${c.req.path}: ${(err as Error).message}`);
    return c.json({ code: 'internal', message: 'internal error; the agent log has the details' }, 500);
  });
  return { app, openApi };
}
