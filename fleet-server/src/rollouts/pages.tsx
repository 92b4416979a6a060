// The console's rollout pages: start a staged rollout, watch its stages and per-gateway states
// live, pause, resume, abort.
import { Hono } from 'hono';
import { listConfigDocuments } from '../configs/index.ts';
import { type ConsoleEnv, formFields, guard, Layout } from '../console-shell/index.ts';
import { roleAtLeast } from '../core/index.ts';
import type { FleetDatabase } from '../db/index.ts';
import { fleetOverview, listGroups, listTags } from '../devices/index.ts';
import { BadRequestError } from '../errors.ts';
import { RolloutPage, RolloutsPage } from './rollouts-page.tsx';
import type { RolloutService } from './service.ts';

export function rolloutsPages(deps: { database: FleetDatabase; rollouts: RolloutService }): Hono<ConsoleEnv> {
  const { rollouts } = deps;
  const { db, sqlite } = deps.database;
  const app = new Hono<ConsoleEnv>();
  app.get(
    '/rollouts',
    guard('viewer', (c, principal, ctx) =>
      c.html(
        <Layout
          ctx={ctx}
          title={ctx.t('rollouts.title')}
          active="/rollouts"
          live={`${ctx.base}/live?rollout=all`}
        >
          <RolloutsPage
            ctx={ctx}
            rollouts={rollouts.list()}
            versions={listConfigDocuments(db, 200).map((v) => v.version)}
            groups={listGroups(db)}
            tags={listTags(sqlite)}
            canAct={roleAtLeast(principal.role, 'fleetOperator')}
          />
        </Layout>,
      ),
    ),
  );

  app.post(
    '/rollouts',
    guard('fleetOperator', async (c, principal, ctx) => {
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
      const r = rollouts.create(
        {
          configVersion,
          target: kind === 'group' ? { group: value } : { tag: value },
          stages,
          maxFailureShare: share,
        },
        principal.userId,
      );
      return c.redirect(`${ctx.base}/rollouts/${encodeURIComponent(r.id)}`, 303);
    }),
  );

  app.get(
    '/rollouts/:id',
    guard('viewer', (c, principal, ctx) => {
      const id = c.req.param('id')!;
      const rollout = rollouts.get(id);
      const names = new Map(fleetOverview(sqlite).map((g) => [g.id, g.name]));
      const targets = rollouts
        .targets(id)
        .map((t) => ({ ...t, name: names.get(t.gatewayId) ?? t.gatewayId }));
      return c.html(
        <Layout
          ctx={ctx}
          title={`${ctx.t('rollouts.title')}: v${rollout.configVersion}`}
          active="/rollouts"
          live={`${ctx.base}/live?rollout=${encodeURIComponent(id)}`}
        >
          <RolloutPage
            ctx={ctx}
            rollout={rollout}
            targets={targets}
            targetName={
              rollout.target.kind === 'group'
                ? (listGroups(db).find((g) => g.id === rollout.target.value)?.name ?? rollout.target.value)
                : rollout.target.value
            }
            canAct={roleAtLeast(principal.role, 'fleetOperator')}
          />
        </Layout>,
      );
    }),
  );

  app.post(
    '/rollouts/:id/:command{pause|resume|abort}',
    guard('fleetOperator', (c, principal, ctx) => {
      const id = c.req.param('id')!;
      rollouts.command(id, c.req.param('command') as 'pause' | 'resume' | 'abort', principal.userId);
      return c.redirect(`${ctx.base}/rollouts/${encodeURIComponent(id)}`, 303);
    }),
  );

  return app;
}
