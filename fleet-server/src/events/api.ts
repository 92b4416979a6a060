// The event log over the API, newest first, filtered by site, gateway, kind (and its sub-kinds)
// and time.
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { ApiRouter, timeParam } from '../api-kit/index.ts';
import { listEvents } from './store.ts';

export function eventsApi(deps: { sqlite: Database.Database }): ApiRouter {
  return new ApiRouter().route(
    {
      method: 'get',
      path: '/events',
      summary: 'The event log, newest first, filtered by site, gateway, kind (and its sub-kinds) and time',
      tag: 'telemetry',
      access: 'viewer',
      query: z.strictObject({
        siteId: z.string().optional(),
        gatewayId: z.string().optional(),
        kind: z.string().optional(),
        from: timeParam,
        to: timeParam,
        limit: z.coerce.number().int().min(1).max(10_000).default(500),
      }),
    },
    (_c, { query }) => listEvents(deps.sqlite, query),
  );
}
