// Config versions over the API: list, one signed document, check a config without storing it,
// and store a new version (validated with the firmware schema, then signed).
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { ApiRouter } from '../api-kit/index.ts';
import type { FleetDb } from '../db/index.ts';
import { NotFoundError } from '../errors.ts';
import {
  type ConfigValidator,
  createConfigDocument,
  getConfigDocument,
  listConfigDocuments,
} from './store.ts';

export interface ConfigsDeps {
  db: FleetDb;
  validate: ConfigValidator;
  /** The server's signing key. */
  serverKey: KeyObject;
  now(): number;
}

export function configsApi(deps: ConfigsDeps): ApiRouter {
  const { db, validate, now } = deps;
  return new ApiRouter()
    .route(
      {
        method: 'get',
        path: '/configs',
        summary: 'Config versions, newest first',
        tag: 'config',
        access: 'viewer',
      },
      () => listConfigDocuments(db),
    )
    .route(
      {
        method: 'get',
        path: '/configs/:version',
        summary: 'One signed config document',
        tag: 'config',
        access: 'viewer',
      },
      (c) => {
        const v = Number(c.req.param('version'));
        if (!Number.isInteger(v) || v < 1)
          throw new NotFoundError('config version', c.req.param('version')!, { path: 'version' });
        return getConfigDocument(db, v);
      },
    )
    .route(
      {
        method: 'post',
        path: '/configs/validate',
        summary: 'Check a gateway config against the firmware schema without storing it',
        tag: 'config',
        access: 'viewer',
        body: z.strictObject({ config: z.unknown() }),
      },
      (c, { body }) => {
        const r = validate(body.config);
        return c.json(r.ok ? { ok: true, errors: [] } : { ok: false, errors: r.errors }, 200);
      },
    )
    .route(
      {
        method: 'post',
        path: '/configs',
        summary: 'Store a new config version: validated with the firmware schema, then signed',
        tag: 'config',
        access: 'fleetOperator',
        body: z.strictObject({ config: z.unknown(), comment: z.string().max(1000).optional() }),
      },
      (_c, { body, actor }) =>
        createConfigDocument(db, { validate, serverKey: deps.serverKey }, body, actor, now()),
    );
}
