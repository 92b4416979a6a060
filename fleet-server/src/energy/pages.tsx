// The console's energy dispatch pages: electricity and water per site or for the region per
// quarter-hour, day or month, the biggest consumers, the night-flow leak indicator, the CSV export.
import { Hono } from 'hono';
import { z } from 'zod';
import {
  type ChartSpec,
  type ConsoleContext,
  type ConsoleEnv,
  guard,
  Layout,
  parseQuery,
  startOfLocalDay,
} from '../console-shell/index.ts';
import type { FleetBus } from '../core/index.ts';
import type { FleetDatabase } from '../db/index.ts';
import { sitesOfKind } from '../devices/index.ts';
import { BadRequestError } from '../errors.ts';
import { CounterCache } from './counter-cache.ts';
import {
  type AmountRow,
  biggestConsumers,
  bucketRows,
  DISPATCH_INTERVALS,
  energyCsv,
  nightFlow,
  regionSeries,
} from './dispatch.ts';
import { EnergyPage } from './energy-page.tsx';

const DAY_MS = 86400_000;
const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');
const WATER_UNITS = ['m3', 'm³'] as const;
const ENERGY_UNITS = ['kWh'] as const;
const energyQuery = z.strictObject({
  site: z.string().max(200).optional(),
  interval: z.enum(DISPATCH_INTERVALS).optional(),
  from: z.union([isoDay, z.literal('')]).optional(),
  to: z.union([isoDay, z.literal('')]).optional(),
});

/** The longest range each energy interval may show, so one page stays a few thousand points. */
const MAX_RANGE_DAYS = { '15m': 31, '1d': 400, '1mo': 3660 } as const;

export interface EnergyPagesDeps {
  database: FleetDatabase;
  bus: FleetBus;
  timeZone: string;
  now(): number;
}

export function energyPages(deps: EnergyPagesDeps): Hono<ConsoleEnv> {
  const { timeZone, now } = deps;
  const { sqlite } = deps.database;
  const counters = new CounterCache(sqlite, deps);
  const app = new Hono<ConsoleEnv>();
  const dispatchData = (c: ConsoleContext, ctx: { fmt: { isoDate(ms: number): string } }) => {
    const q = parseQuery(c, energyQuery);
    const interval = q.interval ?? '1d';
    const today = ctx.fmt.isoDate(now());
    const defaultFrom =
      interval === '15m'
        ? today
        : ctx.fmt
            .isoDate(now() - (interval === '1d' ? 30 : 365) * DAY_MS)
            .slice(0, interval === '1mo' ? 7 : 10);
    const from = q.from || (defaultFrom.length === 7 ? `${defaultFrom}-01` : defaultFrom);
    const to = q.to || today;
    const fromMs = startOfLocalDay(from, timeZone);
    const toMs = startOfLocalDay(
      ctx.fmt.isoDate(startOfLocalDay(to, timeZone) + DAY_MS + 3 * 3600_000),
      timeZone,
    );
    if (toMs <= fromMs)
      throw new BadRequestError('query parameter to: must be on or after from', { path: 'query.to' });
    if (toMs - fromMs > MAX_RANGE_DAYS[interval] * DAY_MS + 2 * 3600_000) {
      throw new BadRequestError(
        `query parameter to: the ${interval} interval shows at most ${MAX_RANGE_DAYS[interval]} days; shorten the range or pick a longer interval`,
        { path: 'query.to' },
      );
    }
    const site = q.site || undefined;
    const bucket = interval === '15m' ? '15m' : '1d';
    // Same rule as the fleet server's energyPerSite, with a join order that stays fast on a year
    // of rollups (see counterPerSite), closed buckets from memory (see CounterCache).
    const energy: AmountRow[] = counters.get({
      units: ENERGY_UNITS,
      bucketS: bucket === '15m' ? 900 : 86400,
      from: fromMs,
      to: toMs,
      siteId: site,
    });
    const water = counters.get({
      units: WATER_UNITS,
      bucketS: bucket === '15m' ? 900 : 86400,
      from: fromMs,
      to: toMs,
      siteId: site,
    });
    return {
      query: { site: site ?? '', interval, from, to },
      fromMs,
      toMs,
      energy: bucketRows(energy, interval, timeZone),
      water: bucketRows(water, interval, timeZone),
    };
  };

  app.get(
    '/energy',
    guard('viewer', (c, _p, ctx) => {
      const d = dispatchData(c, ctx);
      const toSpec = (rows: AmountRow[], label: string, unit: string): ChartSpec => {
        const series = regionSeries(rows);
        return {
          x: series.map((p) => p.start / 1000),
          series: [{ label, values: series.map((p) => p.amount) }],
          unit,
          bars: true,
        };
      };
      const waterBySite = new Map<string, number>();
      for (const r of d.water) waterBySite.set(r.siteId, (waterBySite.get(r.siteId) ?? 0) + r.amount);
      const hourlyWater = counters.get({
        units: WATER_UNITS,
        bucketS: 3600,
        from: d.toMs - 7 * DAY_MS,
        to: d.toMs,
        siteId: d.query.site || undefined,
      });
      const url = new URL(c.req.url);
      return c.html(
        <Layout ctx={ctx} title={ctx.t('energy.title')} active="/energy" scripts={['uplot']}>
          <EnergyPage
            ctx={ctx}
            query={d.query}
            sites={sitesOfKind(sqlite, 'building')}
            energy={toSpec(d.energy, 'kWh', 'kWh')}
            water={toSpec(d.water, 'm³', 'm³')}
            totals={{
              kWh: d.energy.reduce((a, r) => a + r.amount, 0),
              m3: d.water.reduce((a, r) => a + r.amount, 0),
            }}
            consumers={biggestConsumers(d.energy).map((x) => ({ ...x, m3: waterBySite.get(x.siteId) ?? 0 }))}
            night={nightFlow(hourlyWater, timeZone)}
            csvHref={`${ctx.base}/energy.csv${url.search}`}
          />
        </Layout>,
      );
    }),
  );

  app.get(
    '/energy.csv',
    guard('viewer', (c, _p, ctx) => {
      const d = dispatchData(c, ctx);
      const names = new Map(sitesOfKind(sqlite).map((x) => [x.id, x.name]));
      c.header(
        'content-disposition',
        `attachment; filename="brana-energy-${d.query.interval}-${d.query.from}-${d.query.to}.csv"`,
      );
      return c.body(energyCsv(d.energy, d.water, names), 200, { 'content-type': 'text/csv; charset=utf-8' });
    }),
  );

  return app;
}
