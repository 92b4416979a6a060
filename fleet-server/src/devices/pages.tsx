// The console's fleet pages: the list of every gateway (search, filter by state and site) and one
// gateway (channels with live values, a chart, events, config history). What the gateway page
// shows of telemetry, events and configs comes in through `detail`, from those modules.
import { Hono } from 'hono';
import { z } from 'zod';
import {
  type ChartSpec,
  type ConsoleEnv,
  type EventRowView,
  guard,
  Layout,
  parseQuery,
  startOfLocalDay,
} from '../console-shell/index.ts';
import type { FleetDatabase } from '../db/index.ts';
import { BadRequestError } from '../errors.ts';
import { FLEET_STATES, FleetPage, filterFleet, StateBadge } from './fleet-page.tsx';
import {
  type ConfigHistoryRow,
  GatewayPage,
  type LatestValue,
  RANGES,
  type RangeKey,
  type SeriesView,
  seriesChart,
} from './gateway-page.tsx';
import { fleetOverview, gatewayState, sitesOfKind } from './overview.ts';
import { requireGateway } from './store.ts';

const DAY_MS = 86400_000;
const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');

const fleetQuery = z.strictObject({
  q: z.string().max(200).optional(),
  state: z.union([z.enum(FLEET_STATES), z.literal('')]).optional(),
  site: z.string().max(200).optional(),
});
const gatewayQuery = z.strictObject({
  channel: z.string().max(200).optional(),
  range: z.enum(Object.keys(RANGES) as [RangeKey, ...RangeKey[]]).optional(),
  from: z.union([isoDay, z.literal('')]).optional(),
  to: z.union([isoDay, z.literal('')]).optional(),
});

/** What the gateway page shows from other modules. */
export interface GatewayDetailSources {
  latestValues(gatewayId: string): LatestValue[];
  series(q: {
    gatewayId: string;
    channel: string;
    from: number;
    to: number;
    maxPoints: number;
  }): SeriesView | null;
  events(q: { gatewayId: string; from: number; to: number; limit: number }): EventRowView[];
  configHistory(gatewayId: string): ConfigHistoryRow[];
  /** Config versions, newest first. */
  configVersions(): number[];
}

export interface DevicesPagesDeps {
  database: FleetDatabase;
  live: { isOnline(gatewayId: string): boolean };
  detail: GatewayDetailSources;
  timeZone: string;
  now(): number;
}

export function devicesPages(deps: DevicesPagesDeps): Hono<ConsoleEnv> {
  const { database, live, detail, timeZone, now } = deps;
  const { db, sqlite } = database;
  const app = new Hono<ConsoleEnv>();
  const siteName = (id: string | null) =>
    id ? (sitesOfKind(sqlite).find((x) => x.id === id)?.name ?? id) : null;

  const fleetPage = guard('viewer', (c, _p, ctx) => {
    const q = parseQuery(c, fleetQuery);
    const all = fleetOverview(sqlite);
    const online = (id: string) => live.isOnline(id);
    const filter = { q: q.q || undefined, state: q.state || undefined, site: q.site || undefined };
    return c.html(
      <Layout ctx={ctx} title={ctx.t('fleet.title')} active="/" live={`${ctx.base}/live?fleet=1`}>
        <FleetPage
          ctx={ctx}
          rows={filterFleet(all, online, filter)}
          total={all.length}
          online={all.filter((r) => online(r.id)).length}
          sites={sitesOfKind(sqlite)}
          filter={filter}
        />
      </Layout>,
    );
  });
  app.get('/', fleetPage);

  app.get(
    '/gateways/:id',
    guard('viewer', (c, _p, ctx) => {
      const q = parseQuery(c, gatewayQuery);
      const g = requireGateway(db, c.req.param('id')!, 'id');
      const at = now();
      const values = detail.latestValues(g.id);
      const channel =
        q.channel && values.some((v) => v.channel === q.channel) ? q.channel : values[0]?.channel;
      if (q.channel && channel !== q.channel) {
        throw new BadRequestError(
          `query parameter channel: this gateway has no channel ${JSON.stringify(q.channel)}`,
          { path: 'query.channel' },
        );
      }
      const range = q.range ?? '24h';
      // Dates, when given, choose the range; otherwise the preset up to now.
      let from = at - RANGES[range];
      let to = at + 1;
      if (q.from) {
        from = startOfLocalDay(q.from, timeZone);
        const last = q.to || ctx.fmt.isoDate(at);
        to = startOfLocalDay(
          ctx.fmt.isoDate(startOfLocalDay(last, timeZone) + DAY_MS + 3 * 3600_000),
          timeZone,
        );
        if (to <= from)
          throw new BadRequestError('query parameter to: must be on or after from', { path: 'query.to' });
      }
      let spec: ChartSpec | null = null;
      if (channel) {
        const series = detail.series({ gatewayId: g.id, channel, from, to, maxPoints: 800 });
        if (series) spec = seriesChart(series, !q.from && (range === '1h' || range === '24h'));
      }
      const state = gatewayState(g, live.isOnline(g.id));
      return c.html(
        <Layout
          ctx={ctx}
          title={ctx.t('gateway.title', { name: g.name })}
          active="/"
          live={`${ctx.base}/live?gateway=${encodeURIComponent(g.id)}`}
          scripts={['uplot']}
        >
          <GatewayPage
            ctx={ctx}
            gateway={{ ...g, siteName: siteName(g.siteId) }}
            state={state}
            stateBadge={<StateBadge ctx={ctx} row={{ ...g, state }} />}
            values={values}
            chart={{ channel: channel ?? '', range, spec, from: q.from ?? '', to: q.to ?? '' }}
            events={detail.events({ gatewayId: g.id, from: at - 30 * DAY_MS, to: at + 1, limit: 50 })}
            history={detail.configHistory(g.id)}
            versions={detail.configVersions()}
          />
        </Layout>,
      );
    }),
  );
  return app;
}
