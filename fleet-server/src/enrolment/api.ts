// Claim tokens over the API (technicians: create one, import many from CSV, list, revoke) and the
// gateways' own enrolment route (public: the claim token is the credential).
import { ENROL_PATH, enrolRequestSchema, enrolResponseSchema } from '@brana/protocol';
import { z } from 'zod';
import { ApiRouter } from '../api-kit/index.ts';
import type { FleetDb } from '../db/index.ts';
import { TAG } from '../devices/index.ts';
import { createClaimToken, importClaimTokensCsv, listClaimTokens, revokeClaimToken } from './claims.ts';
import { enrolGateway } from './enrol.ts';

export interface EnrolmentDeps {
  db: FleetDb;
  /** The server's Ed25519 public key, base64url: the gateway pins it. */
  serverPublicKey: string;
  now(): number;
}

const id = z.string().min(1).max(200);
const name = z.string().trim().min(1).max(200);

/** Mount under `prefix`; the enrol route is the protocol's ENROL_PATH whatever the prefix. */
export function enrolmentApi(deps: EnrolmentDeps, prefix: string): ApiRouter {
  const { db, now } = deps;
  if (!ENROL_PATH.startsWith(`${prefix}/`)) throw new Error(`${ENROL_PATH} is not below ${prefix}`);
  return new ApiRouter()
    .route(
      {
        method: 'get',
        path: '/claim-tokens',
        summary: 'List claim tokens',
        tag: 'enrolment',
        access: 'technician',
      },
      () => listClaimTokens(db, now()),
    )
    .route(
      {
        method: 'post',
        path: '/claim-tokens',
        summary: 'Create a single-use claim token (shown once)',
        tag: 'enrolment',
        access: 'technician',
        body: z.strictObject({
          gatewayName: name.optional(),
          siteId: id.optional(),
          groupId: id.optional(),
          tags: z.array(TAG).max(100).optional(),
          expiresInHours: z
            .number()
            .positive()
            .max(24 * 365)
            .optional(),
        }),
      },
      (_c, { body, actor }) =>
        createClaimToken(
          db,
          { ...body, expiresInS: body.expiresInHours === undefined ? undefined : body.expiresInHours * 3600 },
          actor,
          now(),
        ),
    )
    .route(
      {
        method: 'post',
        path: '/claim-tokens/import',
        summary:
          'Bulk pre-registration: CSV with columns name,site,group,tags,expiresInDays; one token per row',
        tag: 'enrolment',
        access: 'technician',
        rawBody: 'text/csv',
      },
      async (c, { actor }) => c.json(importClaimTokensCsv(db, await c.req.text(), actor, now()), 201),
    )
    .route(
      {
        method: 'delete',
        path: '/claim-tokens/:id',
        summary: 'Revoke a claim token',
        tag: 'enrolment',
        access: 'technician',
      },
      (c, { actor }) => {
        revokeClaimToken(db, c.req.param('id')!, actor, now());
        return { ok: true };
      },
    )
    .route(
      {
        method: 'post',
        path: ENROL_PATH.slice(prefix.length),
        summary: 'Gateway enrolment: a claim token and the device’s Ed25519 public key for a gateway id',
        tag: 'gateway',
        access: 'public',
        body: enrolRequestSchema,
        response: enrolResponseSchema,
      },
      (c, { body }) => c.json(enrolGateway(db, body, deps.serverPublicKey, now()), 201),
    );
}
