// The console's configuration pages: versions and the editor (YAML or JSON, validated with the
// firmware schema, errors at their path and editor line), one version, the diff of two.
import { Hono } from 'hono';
import { z } from 'zod';
import {
  type ConsoleContext,
  type ConsoleEnv,
  formFields,
  guard,
  Layout,
  type PageCtx,
  parseQuery,
} from '../console-shell/index.ts';
import { roleAtLeast } from '../core/index.ts';
import { ForbiddenError } from '../errors.ts';
import type { ConfigsDeps } from './api.ts';
import { configToText, parseConfigText } from './config-text.ts';
import { ConfigsPage, ConfigVersionPage, DiffPage, type EditorState } from './configs-page.tsx';
import { diffLines } from './diff.ts';
import { createConfigDocument, getConfigDocument, listConfigDocuments } from './store.ts';

const diffQuery = z.strictObject({
  a: z.coerce.number().int().positive(),
  b: z.coerce.number().int().positive(),
});
const configsQuery = z.strictObject({ saved: z.coerce.number().int().positive().optional() });

export function configsPages(deps: ConfigsDeps): Hono<ConsoleEnv> {
  const { db, validate, serverKey, now } = deps;
  const app = new Hono<ConsoleEnv>();
  const renderConfigs = (c: ConsoleContext, ctx: PageCtx, editor: EditorState, status: 200 | 422 = 200) => {
    const principal = ctx.principal!;
    return c.html(
      <Layout ctx={ctx} title={ctx.t('configs.title')} active="/configs">
        <ConfigsPage
          ctx={ctx}
          versions={listConfigDocuments(db, 200)}
          editor={editor}
          canEdit={roleAtLeast(principal.role, 'fleetOperator')}
        />
      </Layout>,
      status,
    );
  };

  app.get(
    '/configs',
    guard('viewer', (c, _p, ctx) => {
      const q = parseQuery(c, configsQuery);
      const latest = listConfigDocuments(db, 1)[0];
      const text = latest ? configToText(getConfigDocument(db, latest.version).config) : '';
      return renderConfigs(c, ctx, { text, basedOn: latest?.version ?? null, comment: '', saved: q.saved });
    }),
  );

  app.post(
    '/configs',
    guard('viewer', async (c, principal, ctx) => {
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
      const result = validate(parsed.value);
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
        db,
        { validate: validate, serverKey: serverKey },
        { config: parsed.value, comment: f.comment || undefined },
        principal.userId,
        now(),
      );
      return c.redirect(`${ctx.base}/configs?saved=${saved.version}`, 303);
    }),
  );

  app.get(
    '/configs/diff',
    guard('viewer', (c, _p, ctx) => {
      const q = parseQuery(c, diffQuery);
      const a = configToText(getConfigDocument(db, q.a).config).split('\n');
      const b = configToText(getConfigDocument(db, q.b).config).split('\n');
      return c.html(
        <Layout ctx={ctx} title={ctx.t('diff.title', { a: q.a, b: q.b })} active="/configs">
          <DiffPage
            ctx={ctx}
            a={q.a}
            b={q.b}
            lines={diffLines(a, b)}
            versions={listConfigDocuments(db, 200).map((v) => v.version)}
          />
        </Layout>,
      );
    }),
  );

  app.get(
    '/configs/:version{[0-9]+}',
    guard('viewer', (c, _p, ctx) => {
      const version = Number(c.req.param('version'));
      const doc = getConfigDocument(db, version);
      const versions = listConfigDocuments(db, 200);
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

  return app;
}
