// The console's intersections page: for one intersection and day, each preemption (role, approach,
// request to contact, how it ended), rejections by reason, faults, and the day per approach.
import { Hono } from 'hono';
import { z } from 'zod';
import { type ConsoleEnv, guard, Layout, parseQuery, startOfLocalDay } from '../console-shell/index.ts';
import type { FleetDatabase } from '../db/index.ts';
import { sitesOfKind } from '../devices/index.ts';
import { BadRequestError } from '../errors.ts';
import { IntersectionsPage } from './intersections-page.tsx';
import { intersectionDay } from './preemptions.ts';
import { listEvents } from './store.ts';

const DAY_MS = 86400_000;
const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');
const intersectionQuery = z.strictObject({
  site: z.string().max(200).optional(),
  day: z.union([isoDay, z.literal('')]).optional(),
});

export function eventsPages(deps: {
  database: FleetDatabase;
  timeZone: string;
  now(): number;
}): Hono<ConsoleEnv> {
  const { timeZone, now } = deps;
  const { sqlite } = deps.database;
  const app = new Hono<ConsoleEnv>();
  app.get(
    '/intersections',
    guard('viewer', (c, _p, ctx) => {
      const q = parseQuery(c, intersectionQuery);
      const sites = sitesOfKind(sqlite, 'intersection');
      const site = q.site ? sites.find((x) => x.id === q.site) : sites[0];
      if (q.site && !site) {
        throw new BadRequestError(
          `query parameter site: no intersection ${JSON.stringify(q.site)}; pick one from the list`,
          { path: 'query.site' },
        );
      }
      const day = q.day || ctx.fmt.isoDate(now());
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
          live={site ? `${ctx.base}/live?site=${encodeURIComponent(site.id)}` : undefined}
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

  return app;
}
