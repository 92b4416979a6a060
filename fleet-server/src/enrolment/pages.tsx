// The console's claim-token page (technicians): create a token, shown once with a QR code to
// print on the gateway's label; the list with each token's state; revoke.
import { Hono } from 'hono';
import QRCode from 'qrcode';
import {
  type ConsoleContext,
  type ConsoleEnv,
  formFields,
  guard,
  Layout,
  type PageCtx,
} from '../console-shell/index.ts';
import type { FleetDb } from '../db/index.ts';
import { listGroups, listSites, TAG } from '../devices/index.ts';
import { BadRequestError } from '../errors.ts';
import { createClaimToken, listClaimTokens, revokeClaimToken } from './claims.ts';
import { ClaimsPage } from './claims-page.tsx';

export function enrolmentPages(deps: { db: FleetDb; now(): number }): Hono<ConsoleEnv> {
  const { db, now } = deps;
  const app = new Hono<ConsoleEnv>();
  const render = (c: ConsoleContext, ctx: PageCtx, created?: Parameters<typeof ClaimsPage>[0]['created']) =>
    c.html(
      <Layout ctx={ctx} title={ctx.t('claims.title')} active="/claims">
        <ClaimsPage
          ctx={ctx}
          claims={listClaimTokens(db, now())}
          sites={listSites(db)}
          groups={listGroups(db)}
          created={created}
        />
      </Layout>,
      created ? 201 : 200,
    );

  app.get(
    '/claims',
    guard('technician', (c, _p, ctx) => render(c, ctx)),
  );

  app.post(
    '/claims',
    guard('technician', async (c, principal, ctx) => {
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
        if (!TAG.safeParse(tag).success) {
          throw new BadRequestError(
            `tags[${i}]: ${JSON.stringify(tag)} is not a tag; use lower-case letters, digits, ".", "_" or "-"`,
            { path: `tags[${i}]` },
          );
        }
      });
      const token = createClaimToken(
        db,
        {
          gatewayName: f.gatewayName?.trim() || undefined,
          siteId: f.siteId || undefined,
          groupId: f.groupId || undefined,
          tags,
          expiresInS: hours * 3600,
        },
        principal.userId,
        now(),
      );
      const qrSvg = await QRCode.toString(token.token, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      const siteName = token.siteId
        ? (listSites(db).find((s) => s.id === token.siteId)?.name ?? token.siteId)
        : null;
      return render(c, ctx, { token, qrSvg, siteName });
    }),
  );

  app.post(
    '/claims/:id/revoke',
    guard('technician', (c, principal, ctx) => {
      revokeClaimToken(db, c.req.param('id')!, principal.userId, now());
      return c.redirect(`${ctx.base}/claims`, 303);
    }),
  );
  return app;
}
