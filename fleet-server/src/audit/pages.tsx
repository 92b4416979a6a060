// The console's audit log page (admins): the newest 300 changes, filtered by entity and user.
import { Hono } from 'hono';
import { z } from 'zod';
import { type ConsoleEnv, guard, Layout, parseQuery } from '../console-shell/index.ts';
import type { FleetDb } from '../db/index.ts';
import { AuditPage } from './audit-page.tsx';
import { listAudit } from './store.ts';

const auditQuery = z.strictObject({
  entityType: z.string().max(100).optional(),
  actor: z.string().max(100).optional(),
});

export interface AuditPagesDeps {
  db: FleetDb;
  /** Operators by id, to show names instead of ids (from the auth module). */
  users(): { id: string; username: string }[];
}

export function auditPages(deps: AuditPagesDeps): Hono<ConsoleEnv> {
  const { db } = deps;
  const app = new Hono<ConsoleEnv>();
  app.get(
    '/audit',
    guard('admin', (c, _p, ctx) => {
      const q = parseQuery(c, auditQuery);
      const users = deps.users();
      const actors = new Map(users.map((u) => [u.id, u.username]));
      const actorId = q.actor ? (users.find((u) => u.username === q.actor)?.id ?? q.actor) : undefined;
      const rows = listAudit(db, { entityType: q.entityType || undefined, actor: actorId, limit: 300 });
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
  return app;
}
