// Energy over the API: kWh per site per quarter-hour, hour or day.
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { ApiRouter, timeParam } from '../api-kit/index.ts';
import { energyPerSite } from './counters.ts';

export function energyApi(deps: { sqlite: Database.Database }): ApiRouter {
  return new ApiRouter().route(
    {
      method: 'get',
      path: '/energy',
      summary: 'Energy (kWh) per site per 15 min, 1 h or 1 day, from kWh counter channels',
      tag: 'telemetry',
      access: 'viewer',
      query: z.strictObject({
        siteId: z.string().optional(),
        interval: z.enum(['15m', '1h', '1d']).default('15m'),
        from: timeParam,
        to: timeParam,
      }),
    },
    (_c, { query }) => energyPerSite(deps.sqlite, query),
  );
}
