// The console's pages, each behind the role that may see it (the same role order as the API).
import type { Hono } from 'hono';
import QRCode from 'qrcode';
import { z } from 'zod';
import { listAudit } from '../audit/index.ts';
import { listUsers, roleAtLeast } from '../auth/users.ts';
import { createConfigDocument, getConfigDocument, listConfigDocuments } from '../configs/index.ts';
import { createClaimToken, listClaimTokens, revokeClaimToken } from '../devices/claims.ts';
import { listGroups, listSites, requireGateway } from '../devices/devices.ts';
import { BadRequestError, ForbiddenError } from '../errors.ts';
import { channelSeries, listEvents } from '../telemetry/index.ts';
import { configToText, parseConfigText } from './config-text.ts';
import { CounterCache } from './counter-cache.ts';
import { diffLines } from './diff.ts';
import {
  type AmountRow,
  biggestConsumers,
  bucketRows,
  DISPATCH_INTERVALS,
  energyCsv,
  nightFlow,
  regionSeries,
} from './energy.ts';
import { startOfLocalDay } from './format.ts';
import { type ConsoleEnv, type ConsoleSettings, formFields, guard, parseQuery } from './kit.tsx';
import { Layout } from './layout.tsx';
import { AuditPage } from './pages/audit.tsx';
import { ClaimsPage } from './pages/claims.tsx';
import { ConfigsPage, ConfigVersionPage, DiffPage, type EditorState } from './pages/configs.tsx';
import { EnergyPage } from './pages/energy.tsx';
import { FLEET_STATES, FleetPage, filterFleet, StateBadge } from './pages/fleet.tsx';
import { type ChartSpec, GatewayPage, RANGES, type RangeKey, seriesChart } from './pages/gateway.tsx';
import { IntersectionsPage } from './pages/intersections.tsx';
import { RolloutPage, RolloutsPage } from './pages/rollouts.tsx';
import { intersectionDay } from './preemptions.ts';
import { fleetOverview, gatewayConfigHistory, gatewayState, latestValues, sitesOfKind } from './queries.ts';

const DAY_MS = 86400_000;
const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');
const WATER_UNITS = ['m3', 'm³'] as const;
const ENERGY_UNITS = ['kWh'] as const;

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
const energyQuery = z.strictObject({
  site: z.string().max(200).optional(),
  interval: z.enum(DISPATCH_INTERVALS).optional(),
  from: z.union([isoDay, z.literal('')]).optional(),
  to: z.union([isoDay, z.literal('')]).optional(),
});
const intersectionQuery = z.strictObject({
  site: z.string().max(200).optional(),
  day: z.union([isoDay, z.literal('')]).optional(),
});
const diffQuery = z.strictObject({
  a: z.coerce.number().int().positive(),
  b: z.coerce.number().int().positive(),
});
const auditQuery = z.strictObject({
  entityType: z.string().max(100).optional(),
  actor: z.string().max(100).optional(),
});
const configsQuery = z.strictObject({ saved: z.coerce.number().int().positive().optional() });

/** The longest range each energy interval may show, so one page stays a few thousand points. */
const MAX_RANGE_DAYS = { '15m': 31, '1d': 400, '1mo': 3660 } as const;

export function registerPages(app: Hono<ConsoleEnv>, s: ConsoleSettings): void {
  const { fleet, base, timeZone } = s;
  const sqlite = fleet.database.sqlite;
  const counters = new CounterCache(sqlite, fleet);
  const tagsStmt = sqlite.prepare('SELECT DISTINCT tag FROM gateway_tags ORDER BY tag').pluck();
  const siteName = (id: string | null) =>
    id ? (sitesOfKind(sqlite).find((x) => x.id === id)?.name ?? id) : null;

  // ------------------------------------------------------------------ fleet
  const fleetPage = guard(base, 'viewer', (c, _p, ctx) => {
    const q = parseQuery(c, fleetQuery);
    const all = fleetOverview(sqlite);
    const online = (id: string) => fleet.hub.isOnline(id);
    const filter = { q: q.q || undefined, state: q.state || undefined, site: q.site || undefined };
    return c.html(
      <Layout ctx={ctx} title={ctx.t('fleet.title')} active="/" live={`${base}/live?fleet=1`}>
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
  app.get(base, fleetPage);
  app.get(`${base}/`, fleetPage);

  // ------------------------------------------------------------------ one gateway
  app.get(
    `${base}/gateways/:id`,
    guard(base, 'viewer', (c, _p, ctx) => {
      const q = parseQuery(c, gatewayQuery);
      const g = requireGateway(fleet.db, c.req.param('id')!, 'id');
      const now = fleet.now();
      const values = latestValues(sqlite, g.id);
      const channel =
        q.channel && values.some((v) => v.channel === q.channel) ? q.channel : values[0]?.channel;
      if (q.channel && channel !== q.channel) {
        throw new BadRequestError(
          `query parameter channel: this gateway has no channel ${JSON.stringify(q.channel)}`,
          {
            path: 'query.channel',
          },
        );
      }
      const range = q.range ?? '24h';
      // Dates, when given, choose the range; otherwise the preset up to now.
      let from = now - RANGES[range];
      let to = now + 1;
      if (q.from) {
        from = startOfLocalDay(q.from, timeZone);
        const last = q.to || ctx.fmt.isoDate(now);
        to = startOfLocalDay(
          ctx.fmt.isoDate(startOfLocalDay(last, timeZone) + DAY_MS + 3 * 3600_000),
          timeZone,
        );
        if (to <= from)
          throw new BadRequestError('query parameter to: must be on or after from', { path: 'query.to' });
      }
      let spec: ChartSpec | null = null;
      if (channel) {
        const series = channelSeries(sqlite, { gatewayId: g.id, channel, from, to, maxPoints: 800 });
        if (series) spec = seriesChart(series, !q.from && (range === '1h' || range === '24h'));
      }
      const state = gatewayState(g, fleet.hub.isOnline(g.id));
      return c.html(
        <Layout
          ctx={ctx}
          title={ctx.t('gateway.title', { name: g.name })}
          active="/"
          live={`${base}/live?gateway=${encodeURIComponent(g.id)}`}
          scripts={['uplot']}
        >
          <GatewayPage
            ctx={ctx}
            gateway={{ ...g, siteName: siteName(g.siteId) }}
            state={state}
            stateBadge={<StateBadge ctx={ctx} row={{ ...g, state }} />}
            values={values}
            chart={{ channel: channel ?? '', range, spec, from: q.from ?? '', to: q.to ?? '' }}
            events={listEvents(sqlite, { gatewayId: g.id, from: now - 30 * DAY_MS, to: now + 1, limit: 50 })}
            history={gatewayConfigHistory(sqlite, g.id)}
            versions={listConfigDocuments(fleet.db, 200).map((v) => v.version)}
          />
        </Layout>,
      );
    }),
  );

  // ------------------------------------------------------------------ energy dispatch
  const dispatchData = (
    c: Parameters<Parameters<typeof guard>[2]>[0],
    ctx: { fmt: { isoDate(ms: number): string } },
  ) => {
    const q = parseQuery(c, energyQuery);
    const interval = q.interval ?? '1d';
    const today = ctx.fmt.isoDate(fleet.now());
    const defaultFrom =
      interval === '15m'
        ? today
        : ctx.fmt
            .isoDate(fleet.now() - (interval === '1d' ? 30 : 365) * DAY_MS)
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
    `${base}/energy`,
    guard(base, 'viewer', (c, _p, ctx) => {
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
            csvHref={`${base}/energy.csv${url.search}`}
          />
        </Layout>,
      );
    }),
  );

  app.get(
    `${base}/energy.csv`,
    guard(base, 'viewer', (c, _p, ctx) => {
      const d = dispatchData(c, ctx);
      const names = new Map(sitesOfKind(sqlite).map((x) => [x.id, x.name]));
      c.header(
        'content-disposition',
        `attachment; filename="brana-energy-${d.query.interval}-${d.query.from}-${d.query.to}.csv"`,
      );
      return c.body(energyCsv(d.energy, d.water, names), 200, { 'content-type': 'text/csv; charset=utf-8' });
    }),
  );

  // ------------------------------------------------------------------ intersections
  app.get(
    `${base}/intersections`,
    guard(base, 'viewer', (c, _p, ctx) => {
      const q = parseQuery(c, intersectionQuery);
      const sites = sitesOfKind(sqlite, 'intersection');
      const site = q.site ? sites.find((x) => x.id === q.site) : sites[0];
      if (q.site && !site) {
        throw new BadRequestError(
          `query parameter site: no intersection ${JSON.stringify(q.site)}; pick one from the list`,
          {
            path: 'query.site',
          },
        );
      }
      const day = q.day || ctx.fmt.isoDate(fleet.now());
      const dayStart = startOfLocalDay(day, timeZone);
      const dayEnd = startOfLocalDay(ctx.fmt.isoDate(dayStart + DAY_MS + 3 * 3600_000), timeZone);
      let data = null;
      if (site) {
        const range = { siteId: site.id, from: dayStart, to: dayEnd, limit: 10_000 };
        data = intersectionDay([
          ...listEvents(sqlite, { ...range, kind: 'preemption' }),
          ...listEvents(sqlite, { ...range, kind: 'fault' }),
        ]);
      }
      return c.html(
        <Layout
          ctx={ctx}
          title={ctx.t('intersections.title')}
          active="/intersections"
          live={site ? `${base}/live?site=${encodeURIComponent(site.id)}` : undefined}
        >
          <IntersectionsPage
            ctx={ctx}
            sites={sites}
            site={site?.id ?? null}
            day={day}
            dayStart={dayStart}
            dayEnd={dayEnd}
            data={data}
            faults={data?.faults ?? []}
          />
        </Layout>,
      );
    }),
  );

  // ------------------------------------------------------------------ configuration
  const renderConfigs = (
    c: Parameters<Parameters<typeof guard>[2]>[0],
    ctx: Parameters<Parameters<typeof guard>[2]>[2],
    editor: EditorState,
    status: 200 | 422 = 200,
  ) => {
    const principal = ctx.principal!;
    return c.html(
      <Layout ctx={ctx} title={ctx.t('configs.title')} active="/configs">
        <ConfigsPage
          ctx={ctx}
          versions={listConfigDocuments(fleet.db, 200)}
          editor={editor}
          canEdit={roleAtLeast(principal.role, 'fleetOperator')}
        />
      </Layout>,
      status,
    );
  };

  app.get(
    `${base}/configs`,
    guard(base, 'viewer', (c, _p, ctx) => {
      const q = parseQuery(c, configsQuery);
      const latest = listConfigDocuments(fleet.db, 1)[0];
      const text = latest ? configToText(getConfigDocument(fleet.db, latest.version).config) : '';
      return renderConfigs(c, ctx, { text, basedOn: latest?.version ?? null, comment: '', saved: q.saved });
    }),
  );

  app.post(
    `${base}/configs`,
    guard(base, 'viewer', async (c, principal, ctx) => {
      const f = await formFields(c);
      const text = f.text ?? '';
      const basedOn = f.basedOn ? Number(f.basedOn) : null;
      const editor: EditorState = { text, basedOn, comment: f.comment ?? '' };
      const parsed = parseConfigText(text);
      if (!parsed.ok)
        return renderConfigs(
          c,
          ctx,
          { ...editor, parseError: { message: parsed.message, line: parsed.line } },
          422,
        );
      const result = fleet.validateConfig(parsed.value);
      if (!result.ok) {
        const issues = result.errors.map((e) => ({ ...e, line: parsed.lineOf(e.path) }));
        return renderConfigs(c, ctx, { ...editor, issues }, 422);
      }
      if (f.action !== 'save') return renderConfigs(c, ctx, { ...editor, valid: true });
      if (!roleAtLeast(principal.role, 'fleetOperator')) {
        throw new ForbiddenError(
          ctx.t('error.forbidden', {
            role: ctx.t(`role.${principal.role}`),
            needed: ctx.t('role.fleetOperator'),
          }),
        );
      }
      const saved = createConfigDocument(
        fleet.db,
        { validate: fleet.validateConfig, serverKey: fleet.serverKey.privateKey },
        { config: parsed.value, comment: f.comment || undefined },
        principal.userId,
        fleet.now(),
      );
      return c.redirect(`${base}/configs?saved=${saved.version}`, 303);
    }),
  );

  app.get(
    `${base}/configs/diff`,
    guard(base, 'viewer', (c, _p, ctx) => {
      const q = parseQuery(c, diffQuery);
      const a = configToText(getConfigDocument(fleet.db, q.a).config).split('\n');
      const b = configToText(getConfigDocument(fleet.db, q.b).config).split('\n');
      return c.html(
        <Layout ctx={ctx} title={ctx.t('diff.title', { a: q.a, b: q.b })} active="/configs">
          <DiffPage
            ctx={ctx}
            a={q.a}
            b={q.b}
            lines={diffLines(a, b)}
            versions={listConfigDocuments(fleet.db, 200).map((v) => v.version)}
          />
        </Layout>,
      );
    }),
  );

  app.get(
    `${base}/configs/:version{[0-9]+}`,
    guard(base, 'viewer', (c, _p, ctx) => {
      const version = Number(c.req.param('version'));
      const doc = getConfigDocument(fleet.db, version);
      const versions = listConfigDocuments(fleet.db, 200);
      const summary = versions.find((v) => v.version === version)!;
      return c.html(
        <Layout ctx={ctx} title={`${ctx.t('common.version')} v${version}`} active="/configs">
          <ConfigVersionPage
            ctx={ctx}
            summary={summary}
            text={configToText(doc.config)}
            versions={versions.map((v) => v.version)}
          />
        </Layout>,
      );
    }),
  );

  // ------------------------------------------------------------------ rollouts
  app.get(
    `${base}/rollouts`,
    guard(base, 'viewer', (c, principal, ctx) =>
      c.html(
        <Layout
          ctx={ctx}
          title={ctx.t('rollouts.title')}
          active="/rollouts"
          live={`${base}/live?rollout=all`}
        >
          <RolloutsPage
            ctx={ctx}
            rollouts={fleet.rollouts.list()}
            versions={listConfigDocuments(fleet.db, 200).map((v) => v.version)}
            groups={listGroups(fleet.db)}
            tags={tagsStmt.all() as string[]}
            canAct={roleAtLeast(principal.role, 'fleetOperator')}
          />
        </Layout>,
      ),
    ),
  );

  app.post(
    `${base}/rollouts`,
    guard(base, 'fleetOperator', async (c, principal) => {
      const f = await formFields(c);
      const configVersion = Number(f.configVersion);
      if (!Number.isInteger(configVersion) || configVersion < 1) {
        throw new BadRequestError('configVersion: pick a config version', { path: 'configVersion' });
      }
      const [kind, ...rest] = (f.target ?? '').split(':');
      const value = rest.join(':');
      if ((kind !== 'group' && kind !== 'tag') || !value) {
        throw new BadRequestError('target: pick a group or a tag', { path: 'target' });
      }
      const stages = (f.stages ?? '10,100')
        .split(/[,\s]+/)
        .filter((x) => x !== '')
        .map(Number);
      if (stages.length === 0 || stages.some((x) => !Number.isFinite(x))) {
        throw new BadRequestError('stages: write whole percentages separated by commas, e.g. 10,50,100', {
          path: 'stages',
        });
      }
      const share = f.maxFailureShare ? Number(f.maxFailureShare.replace(',', '.')) : undefined;
      if (share !== undefined && !(share >= 0 && share <= 1)) {
        throw new BadRequestError('maxFailureShare: a share between 0 and 1, e.g. 0.1', {
          path: 'maxFailureShare',
        });
      }
      const r = fleet.rollouts.create(
        {
          configVersion,
          target: kind === 'group' ? { group: value } : { tag: value },
          stages,
          maxFailureShare: share,
        },
        principal.userId,
      );
      return c.redirect(`${base}/rollouts/${encodeURIComponent(r.id)}`, 303);
    }),
  );

  app.get(
    `${base}/rollouts/:id`,
    guard(base, 'viewer', (c, principal, ctx) => {
      const id = c.req.param('id')!;
      const rollout = fleet.rollouts.get(id);
      const names = new Map(fleetOverview(sqlite).map((g) => [g.id, g.name]));
      const targets = fleet.rollouts
        .targets(id)
        .map((t) => ({ ...t, name: names.get(t.gatewayId) ?? t.gatewayId }));
      return c.html(
        <Layout
          ctx={ctx}
          title={`${ctx.t('rollouts.title')}: v${rollout.configVersion}`}
          active="/rollouts"
          live={`${base}/live?rollout=${encodeURIComponent(id)}`}
        >
          <RolloutPage
            ctx={ctx}
            rollout={rollout}
            targets={targets}
            targetName={
              rollout.target.kind === 'group'
                ? (listGroups(fleet.db).find((g) => g.id === rollout.target.value)?.name ??
                  rollout.target.value)
                : rollout.target.value
            }
            canAct={roleAtLeast(principal.role, 'fleetOperator')}
          />
        </Layout>,
      );
    }),
  );

  app.post(
    `${base}/rollouts/:id/:command{pause|resume|abort}`,
    guard(base, 'fleetOperator', (c, principal) => {
      const id = c.req.param('id')!;
      fleet.rollouts.command(id, c.req.param('command') as 'pause' | 'resume' | 'abort', principal.userId);
      return c.redirect(`${base}/rollouts/${encodeURIComponent(id)}`, 303);
    }),
  );

  // ------------------------------------------------------------------ claim tokens
  const claimsPage = async (
    c: Parameters<Parameters<typeof guard>[2]>[0],
    ctx: Parameters<Parameters<typeof guard>[2]>[2],
    created?: Parameters<typeof ClaimsPage>[0]['created'],
  ) =>
    c.html(
      <Layout ctx={ctx} title={ctx.t('claims.title')} active="/claims">
        <ClaimsPage
          ctx={ctx}
          claims={listClaimTokens(fleet.db, fleet.now())}
          sites={listSites(fleet.db)}
          groups={listGroups(fleet.db)}
          created={created}
        />
      </Layout>,
      created ? 201 : 200,
    );

  app.get(
    `${base}/claims`,
    guard(base, 'technician', (c, _p, ctx) => claimsPage(c, ctx)),
  );

  app.post(
    `${base}/claims`,
    guard(base, 'technician', async (c, principal, ctx) => {
      const f = await formFields(c);
      const hours = f.expiresInHours ? Number(f.expiresInHours.replace(',', '.')) : 168;
      if (!(hours > 0 && hours <= 24 * 365)) {
        throw new BadRequestError('expiresInHours: a number of hours between 0 and 8760', {
          path: 'expiresInHours',
        });
      }
      const tags = (f.tags ?? '')
        .split(/[,;\s]+/)
        .map((x) => x.trim().toLowerCase())
        .filter((x) => x !== '');
      tags.forEach((tag, i) => {
        if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(tag)) {
          throw new BadRequestError(
            `tags[${i}]: ${JSON.stringify(tag)} is not a tag; use lower-case letters, digits, ".", "_" or "-"`,
            {
              path: `tags[${i}]`,
            },
          );
        }
      });
      const token = createClaimToken(
        fleet.db,
        {
          gatewayName: f.gatewayName?.trim() || undefined,
          siteId: f.siteId || undefined,
          groupId: f.groupId || undefined,
          tags,
          expiresInS: hours * 3600,
        },
        principal.userId,
        fleet.now(),
      );
      const qrSvg = await QRCode.toString(token.token, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return claimsPage(c, ctx, { token, qrSvg, siteName: siteName(token.siteId) });
    }),
  );

  app.post(
    `${base}/claims/:id/revoke`,
    guard(base, 'technician', (c, principal) => {
      revokeClaimToken(fleet.db, c.req.param('id')!, principal.userId, fleet.now());
      return c.redirect(`${base}/claims`, 303);
    }),
  );

  // ------------------------------------------------------------------ audit log
  app.get(
    `${base}/audit`,
    guard(base, 'admin', (c, _p, ctx) => {
      const q = parseQuery(c, auditQuery);
      const users = listUsers(fleet.db);
      const actors = new Map(users.map((u) => [u.id, u.username]));
      const actorId = q.actor ? (users.find((u) => u.username === q.actor)?.id ?? q.actor) : undefined;
      const rows = listAudit(fleet.db, { entityType: q.entityType || undefined, actor: actorId, limit: 300 });
      return c.html(
        <Layout ctx={ctx} title={ctx.t('audit.title')} active="/audit">
          <AuditPage
            ctx={ctx}
            rows={rows}
            actors={actors}
            filter={{ entityType: q.entityType, actor: q.actor }}
          />
        </Layout>,
      );
    }),
  );
}
