// The audit log over the API (admin only), newest first.
import { z } from 'zod';
import { ApiRouter, timeParam } from '../api-kit/index.ts';
import type { FleetDb } from '../db/index.ts';
import { listAudit } from './store.ts';

export function auditApi(deps: { db: FleetDb }): ApiRouter {
  return new ApiRouter().route(
    {
      method: 'get',
      path: '/audit',
      summary: 'The audit log, newest first',
      tag: 'audit',
      access: 'admin',
      query: z.strictObject({
        entityType: z.string().optional(),
        entityId: z.string().optional(),
        actor: z.string().optional(),
        from: timeParam.optional(),
        to: timeParam.optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
    },
    (_c, { query }) => listAudit(deps.db, query),
  );
}
