// Every API route: its schema, its role, its handler. The handlers stay thin; the modules do the work.

import {
  CLOSE_CODES,
  ENROL_PATH,
  enrolRequestSchema,
  enrolResponseSchema,
  GATEWAY_HEADERS,
  GATEWAY_TELEMETRY_PATH,
  type TelemetryBatch,
  telemetryAckSchema,
  telemetryBatchSchema,
} from '@brana/protocol';
import type Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { deleteCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { listAudit } from '../audit/index.ts';
import {
  createApiToken,
  createUser,
  disableUser,
  listUsers,
  login,
  logout,
  ROLES,
  revokeApiToken,
  setUserRole,
} from '../auth/users.ts';
import { createConfigDocument, getConfigDocument, listConfigDocuments } from '../configs/index.ts';
import { apiTokens } from '../db/schema.ts';
import {
  createClaimToken,
  enrolGateway,
  importClaimTokensCsv,
  listClaimTokens,
  revokeClaimToken,
} from '../devices/claims.ts';
import {
  createGroup,
  createSite,
  gatewayView,
  listGateways,
  listGroups,
  listSites,
  requireGateway,
  revokeGateway,
  updateGateway,
} from '../devices/devices.ts';
import {
  BadRequestError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
} from '../errors.ts';
import {
  channelSeries,
  checkBodySignature,
  decodeTelemetry,
  energyPerSite,
  listChannels,
  listEvents,
  telemetryOfParsed,
} from '../telemetry/index.ts';
import { type ApiRegistry, SESSION_COOKIE, timeParam, zodToBadRequest } from './api.ts';
import type { RateLimiter } from './rate-limit.ts';
import { readBodyLimited } from './request-body.ts';

const id = z.string().min(1).max(200);
const name = z.string().trim().min(1).max(200);
const roleSchema = z.enum(ROLES);
const tag = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a tag is 1-64 lower-case letters, digits, ".", "_" or "-"');

// The HTTP telemetry path runs per batch: a prepared lookup instead of building the drizzle query
// each time.
const gatewayLookups = new WeakMap<Database.Database, Database.Statement>();
function gatewayForTelemetry(sqlite: Database.Database, id: string) {
  let stmt = gatewayLookups.get(sqlite);
  if (!stmt) {
    stmt = sqlite.prepare('SELECT id, num, status, public_key AS publicKey FROM gateways WHERE id = ?');
    gatewayLookups.set(sqlite, stmt);
  }
  return stmt.get(id) as
    | { id: string; num: number; status: 'active' | 'revoked'; publicKey: string }
    | undefined;
}
/** A telemetry body the decoder did not take as a plain readings batch: zod says what is wrong. */
function parseTelemetryBody(body: Buffer): TelemetryBatch {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new BadRequestError(`body is not valid JSON: ${(e as Error).message}`, {
      code: 'malformed-json',
      path: 'body',
    });
  }
  const parsed = telemetryBatchSchema.safeParse(json);
  if (!parsed.success) throw zodToBadRequest(parsed.error, 'body', json);
  return parsed.data;
}

export function registerRoutes(
  api: ApiRegistry,
  perGateway: RateLimiter,
  limits: { maxTelemetryBodyBytes: number },
): void {
  // ------------------------------------------------------------ auth
  api.route(
    {
      method: 'post',
      path: '/api/v1/auth/login',
      summary: 'Sign in; sets the session cookie',
      tag: 'auth',
      access: 'public',
      body: z.strictObject({ username: z.string().max(64), password: z.string().max(1024) }),
    },
    async (c, { body, fleet }) => {
      const r = await login(fleet.db, body.username, body.password, fleet.now());
      if (!r) throw new UnauthorizedError('wrong username or password');
      setCookie(c, SESSION_COOKIE, r.cookie, {
        httpOnly: true,
        sameSite: 'Strict',
        path: '/',
        secure: new URL(c.req.url).protocol === 'https:',
        expires: new Date(r.expiresAt),
      });
      return c.json({ user: r.principal, expiresAt: r.expiresAt }, 200);
    },
  );
  api.route(
    { method: 'post', path: '/api/v1/auth/logout', summary: 'Sign out', tag: 'auth', access: 'viewer' },
    (c, { fleet }) => {
      const cookie = c.req.header('cookie')?.match(new RegExp(`${SESSION_COOKIE}=([^;]+)`))?.[1];
      if (cookie) logout(fleet.db, cookie);
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.json({ ok: true }, 200);
    },
  );
  api.route(
    { method: 'get', path: '/api/v1/auth/me', summary: 'Who am I', tag: 'auth', access: 'viewer' },
    (_c, { principal }) => principal,
  );

  // ------------------------------------------------------------ users, tokens, audit
  api.route(
    { method: 'get', path: '/api/v1/users', summary: 'List users', tag: 'users', access: 'admin' },
    (_c, { fleet }) => listUsers(fleet.db),
  );
  api.route(
    {
      method: 'post',
      path: '/api/v1/users',
      summary: 'Create a user; the answer holds a one-time password unless one was given',
      tag: 'users',
      access: 'admin',
      body: z.strictObject({
        username: z.string(),
        role: roleSchema,
        password: z.string().min(12).max(1024).optional(),
      }),
    },
    async (_c, { body, fleet, actor }) => {
      const u = await createUser(fleet.db, body, actor, fleet.now());
      return {
        id: u.id,
        username: u.username,
        role: u.role,
        password: body.password ? undefined : u.password,
      };
    },
  );
  api.route(
    {
      method: 'patch',
      path: '/api/v1/users/:id',
      summary: 'Change a user’s role or disable the user',
      tag: 'users',
      access: 'admin',
      body: z.strictObject({ role: roleSchema.optional(), disabled: z.literal(true).optional() }),
    },
    (c, { body, fleet, actor }) => {
      const userId = c.req.param('id')!;
      if (body.role) setUserRole(fleet.db, userId, body.role, actor);
      if (body.disabled) disableUser(fleet.db, userId, actor, fleet.now());
      return listUsers(fleet.db).find((u) => u.id === userId);
    },
  );
  api.route(
    {
      method: 'post',
      path: '/api/v1/tokens',
      summary: 'Create an API token for yourself (shown once)',
      tag: 'users',
      access: 'viewer',
      body: z.strictObject({ name, expiresInDays: z.number().int().min(1).max(3650).optional() }),
    },
    (_c, { body, fleet, principal, actor }) => {
      const now = fleet.now();
      const expiresAt = body.expiresInDays ? now + body.expiresInDays * 86400_000 : null;
      return { ...createApiToken(fleet.db, principal.userId, body.name, expiresAt, actor, now), expiresAt };
    },
  );
  api.route(
    {
      method: 'delete',
      path: '/api/v1/tokens/:id',
      summary: 'Revoke an API token (yours, or any as admin)',
      tag: 'users',
      access: 'viewer',
    },
    (c, { fleet, principal, actor }) => {
      const tokenId = c.req.param('id')!;
      const t = fleet.db.select().from(apiTokens).where(eq(apiTokens.id, tokenId)).get();
      if (!t) throw new NotFoundError('API token', tokenId);
      if (t.userId !== principal.userId && principal.role !== 'admin') {
        throw new ForbiddenError('only the owner or an admin may revoke this token');
      }
      revokeApiToken(fleet.db, tokenId, actor, fleet.now());
      return { ok: true };
    },
  );
  api.route(
    {
      method: 'get',
      path: '/api/v1/audit',
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
    (_c, { query, fleet }) => listAudit(fleet.db, query),
  );

  // ------------------------------------------------------------ sites, groups, gateways
  api.route(
    { method: 'get', path: '/api/v1/sites', summary: 'List sites', tag: 'devices', access: 'viewer' },
    (_c, { fleet }) => listSites(fleet.db),
  );
  api.route(
    {
      method: 'post',
      path: '/api/v1/sites',
      summary: 'Create a site (a building, an intersection)',
      tag: 'devices',
      access: 'fleetOperator',
      body: z.strictObject({
        name,
        kind: z.enum(['building', 'intersection', 'other']),
        address: z.string().max(500).optional(),
      }),
    },
    (_c, { body, fleet, actor }) => createSite(fleet.db, body, actor, fleet.now()),
  );
  api.route(
    { method: 'get', path: '/api/v1/groups', summary: 'List groups', tag: 'devices', access: 'viewer' },
    (_c, { fleet }) => listGroups(fleet.db),
  );
  api.route(
    {
      method: 'post',
      path: '/api/v1/groups',
      summary: 'Create a group',
      tag: 'devices',
      access: 'fleetOperator',
      body: z.strictObject({ name, description: z.string().max(1000).optional() }),
    },
    (_c, { body, fleet, actor }) => createGroup(fleet.db, body, actor, fleet.now()),
  );
  api.route(
    {
      method: 'get',
      path: '/api/v1/gateways',
      summary: 'List gateways with their state',
      tag: 'devices',
      access: 'viewer',
      query: z.strictObject({
        siteId: z.string().optional(),
        groupId: z.string().optional(),
        tag: z.string().optional(),
      }),
    },
    (_c, { query, fleet }) =>
      listGateways(fleet.db, query).map((g) => ({ ...g, online: fleet.hub.isOnline(g.id) })),
  );
  api.route(
    { method: 'get', path: '/api/v1/gateways/:id', summary: 'One gateway', tag: 'devices', access: 'viewer' },
    (c, { fleet }) => {
      const g = gatewayView(fleet.db, requireGateway(fleet.db, c.req.param('id')!, 'id'));
      return { ...g, online: fleet.hub.isOnline(g.id) };
    },
  );
  api.route(
    {
      method: 'patch',
      path: '/api/v1/gateways/:id',
      summary: 'Rename a gateway, move it to a site, set its groups and tags',
      tag: 'devices',
      access: 'fleetOperator',
      body: z.strictObject({
        name: name.optional(),
        siteId: id.nullable().optional(),
        groupIds: z.array(id).max(100).optional(),
        tags: z.array(tag).max(100).optional(),
      }),
    },
    (c, { body, fleet, actor }) => updateGateway(fleet.db, c.req.param('id')!, body, actor),
  );
  api.route(
    {
      method: 'post',
      path: '/api/v1/gateways/:id/revoke',
      summary: 'Revoke a gateway: its live session closes, its next connection is refused',
      tag: 'devices',
      access: 'fleetOperator',
    },
    (c, { fleet, actor }) => {
      const gatewayId = c.req.param('id')!;
      const g = revokeGateway(fleet.db, gatewayId, actor, fleet.now());
      fleet.hub.disconnect(gatewayId, CLOSE_CODES.revoked, 'revoked');
      return g;
    },
  );

  // ------------------------------------------------------------ claim tokens and enrolment
  api.route(
    {
      method: 'get',
      path: '/api/v1/claim-tokens',
      summary: 'List claim tokens',
      tag: 'enrolment',
      access: 'technician',
    },
    (_c, { fleet }) => listClaimTokens(fleet.db, fleet.now()),
  );
  api.route(
    {
      method: 'post',
      path: '/api/v1/claim-tokens',
      summary: 'Create a single-use claim token (shown once)',
      tag: 'enrolment',
      access: 'technician',
      body: z.strictObject({
        gatewayName: name.optional(),
        siteId: id.optional(),
        groupId: id.optional(),
        tags: z.array(tag).max(100).optional(),
        expiresInHours: z
          .number()
          .positive()
          .max(24 * 365)
          .optional(),
      }),
    },
    (_c, { body, fleet, actor }) =>
      createClaimToken(
        fleet.db,
        { ...body, expiresInS: body.expiresInHours === undefined ? undefined : body.expiresInHours * 3600 },
        actor,
        fleet.now(),
      ),
  );
  api.route(
    {
      method: 'post',
      path: '/api/v1/claim-tokens/import',
      summary:
        'Bulk pre-registration: CSV with columns name,site,group,tags,expiresInDays; one token per row',
      tag: 'enrolment',
      access: 'technician',
      rawBody: 'text/csv',
    },
    async (c, { fleet, actor }) => {
      const csv = await c.req.text();
      return c.json(importClaimTokensCsv(fleet.db, csv, actor, fleet.now()), 201);
    },
  );
  api.route(
    {
      method: 'delete',
      path: '/api/v1/claim-tokens/:id',
      summary: 'Revoke a claim token',
      tag: 'enrolment',
      access: 'technician',
    },
    (c, { fleet, actor }) => {
      revokeClaimToken(fleet.db, c.req.param('id')!, actor, fleet.now());
      return { ok: true };
    },
  );
  api.route(
    {
      method: 'post',
      path: ENROL_PATH,
      summary: 'Gateway enrolment: a claim token and the device’s Ed25519 public key for a gateway id',
      tag: 'gateway',
      access: 'public',
      body: enrolRequestSchema,
      response: enrolResponseSchema,
    },
    (c, { body, fleet }) => c.json(enrolGateway(fleet.db, body, fleet.serverKey.publicKey, fleet.now()), 201),
  );
  api.route(
    {
      method: 'post',
      path: GATEWAY_TELEMETRY_PATH,
      summary: 'Telemetry batch over HTTPS (when the WebSocket is down); signed by the gateway key',
      tag: 'gateway',
      access: 'gateway',
      response: telemetryAckSchema,
      rawBody: 'application/json',
      rawBodySchema: telemetryBatchSchema,
    },
    async (c, { fleet }) => {
      const gatewayId = c.req.header(GATEWAY_HEADERS.id);
      const timestamp = c.req.header(GATEWAY_HEADERS.timestamp);
      const signature = c.req.header(GATEWAY_HEADERS.signature);
      if (!gatewayId || !timestamp || !signature) {
        throw new UnauthorizedError(
          `send ${GATEWAY_HEADERS.id}, ${GATEWAY_HEADERS.timestamp} and ${GATEWAY_HEADERS.signature} (see signGatewayRequest)`,
        );
      }
      const gw = gatewayForTelemetry(fleet.database.sqlite, gatewayId);
      if (!gw) throw new UnauthorizedError('this gateway is not enrolled here; enrol it with a claim token');
      const body = await readBodyLimited(c, limits.maxTelemetryBodyBytes);
      // The signature is checked before anything in the body is read, and a revoked or
      // rate-limited gateway is refused before its body is parsed.
      const refused = checkBodySignature(body, {
        method: 'POST',
        path: GATEWAY_TELEMETRY_PATH,
        timestamp,
        signature,
        publicKey: gw.publicKey,
        now: fleet.now(),
      });
      if (refused !== null) throw new UnauthorizedError(refused);
      if (gw.status === 'revoked')
        throw new ForbiddenError('this gateway was revoked; re-enrol it with a new claim token');
      const r = perGateway.take(gw.id);
      if (!r.allowed) throw new RateLimitedError(r.retryAfterS);
      const decoded = decodeTelemetry(body, 'batch');
      const batch = decoded.kind === 'readings' ? decoded : telemetryOfParsed(parseTelemetryBody(body));
      return c.json(await fleet.ingestTelemetry(gw, batch), 200);
    },
  );

  // ------------------------------------------------------------ configs and rollouts
  api.route(
    {
      method: 'get',
      path: '/api/v1/configs',
      summary: 'Config versions, newest first',
      tag: 'config',
      access: 'viewer',
    },
    (_c, { fleet }) => listConfigDocuments(fleet.db),
  );
  api.route(
    {
      method: 'get',
      path: '/api/v1/configs/:version',
      summary: 'One signed config document',
      tag: 'config',
      access: 'viewer',
    },
    (c, { fleet }) => {
      const v = Number(c.req.param('version'));
      if (!Number.isInteger(v) || v < 1)
        throw new NotFoundError('config version', c.req.param('version')!, { path: 'version' });
      return getConfigDocument(fleet.db, v);
    },
  );
  api.route(
    {
      method: 'post',
      path: '/api/v1/configs/validate',
      summary: 'Check a gateway config against the firmware schema without storing it',
      tag: 'config',
      access: 'viewer',
      body: z.strictObject({ config: z.unknown() }),
    },
    (c, { body, fleet }) => {
      const r = fleet.validateConfig(body.config);
      return c.json(r.ok ? { ok: true, errors: [] } : { ok: false, errors: r.errors }, 200);
    },
  );
  api.route(
    {
      method: 'post',
      path: '/api/v1/configs',
      summary: 'Store a new config version: validated with the firmware schema, then signed',
      tag: 'config',
      access: 'fleetOperator',
      body: z.strictObject({ config: z.unknown(), comment: z.string().max(1000).optional() }),
    },
    (_c, { body, fleet, actor }) =>
      createConfigDocument(
        fleet.db,
        { validate: fleet.validateConfig, serverKey: fleet.serverKey.privateKey },
        body,
        actor,
        fleet.now(),
      ),
  );
  api.route(
    {
      method: 'get',
      path: '/api/v1/rollouts',
      summary: 'Rollouts, newest first',
      tag: 'config',
      access: 'viewer',
    },
    (_c, { fleet }) => fleet.rollouts.list(),
  );
  api.route(
    {
      method: 'get',
      path: '/api/v1/rollouts/:id',
      summary: 'One rollout with its stages',
      tag: 'config',
      access: 'viewer',
    },
    (c, { fleet }) => fleet.rollouts.get(c.req.param('id')!),
  );
  api.route(
    {
      method: 'get',
      path: '/api/v1/rollouts/:id/targets',
      summary: 'Per-gateway state of a rollout',
      tag: 'config',
      access: 'viewer',
    },
    (c, { fleet }) => fleet.rollouts.targets(c.req.param('id')!),
  );
  api.route(
    {
      method: 'post',
      path: '/api/v1/rollouts',
      summary: 'Start a staged rollout of a config version to a group or a tag',
      tag: 'config',
      access: 'fleetOperator',
      body: z.strictObject({
        configVersion: z.number().int().positive(),
        target: z.union([z.strictObject({ group: id }), z.strictObject({ tag })]),
        stages: z.array(z.number().int()).min(1).max(10).optional(),
        maxFailureShare: z.number().min(0).max(1).optional(),
      }),
    },
    (_c, { body, fleet, actor }) => fleet.rollouts.create(body, actor),
  );
  for (const command of ['pause', 'resume', 'abort'] as const) {
    api.route(
      {
        method: 'post',
        path: `/api/v1/rollouts/:id/${command}`,
        summary: `${command[0]!.toUpperCase()}${command.slice(1)} a rollout`,
        tag: 'config',
        access: 'fleetOperator',
      },
      (c, { fleet, actor }) => fleet.rollouts.command(c.req.param('id')!, command, actor),
    );
  }

  // ------------------------------------------------------------ telemetry queries
  const range = {
    from: timeParam,
    to: timeParam,
  };
  api.route(
    {
      method: 'get',
      path: '/api/v1/gateways/:id/channels',
      summary: 'Channels a gateway reports',
      tag: 'telemetry',
      access: 'viewer',
    },
    (c, { fleet }) => {
      const g = requireGateway(fleet.db, c.req.param('id')!, 'id');
      return listChannels(fleet.database.sqlite, g.id);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/api/v1/gateways/:id/series',
      summary: 'One channel over a time range, downsampled to at most maxPoints',
      tag: 'telemetry',
      access: 'viewer',
      query: z.strictObject({
        channel: z.string().min(1),
        ...range,
        maxPoints: z.coerce.number().int().min(1).max(10_000).default(500),
      }),
    },
    (c, { query, fleet }) => {
      const g = requireGateway(fleet.db, c.req.param('id')!, 'id');
      const r = channelSeries(fleet.database.sqlite, { gatewayId: g.id, ...query });
      if (!r) throw new NotFoundError('channel', query.channel, { path: 'query.channel' });
      return r;
    },
  );
  api.route(
    {
      method: 'get',
      path: '/api/v1/energy',
      summary: 'Energy (kWh) per site per 15 min, 1 h or 1 day, from kWh counter channels',
      tag: 'telemetry',
      access: 'viewer',
      query: z.strictObject({
        siteId: z.string().optional(),
        interval: z.enum(['15m', '1h', '1d']).default('15m'),
        ...range,
      }),
    },
    (_c, { query, fleet }) => energyPerSite(fleet.database.sqlite, query),
  );
  api.route(
    {
      method: 'get',
      path: '/api/v1/events',
      summary: 'The event log, newest first, filtered by site, gateway, kind (and its sub-kinds) and time',
      tag: 'telemetry',
      access: 'viewer',
      query: z.strictObject({
        siteId: z.string().optional(),
        gatewayId: z.string().optional(),
        kind: z.string().optional(),
        ...range,
        limit: z.coerce.number().int().min(1).max(10_000).default(500),
      }),
    },
    (_c, { query, fleet }) => listEvents(fleet.database.sqlite, query),
  );
}
