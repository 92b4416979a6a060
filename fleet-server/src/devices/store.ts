// Sites, groups, tags and gateways: the inventory an operator manages.
import { randomBytes, randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { writeAudit } from '../audit/index.ts';
import { type FleetDb, schema, writeTx } from '../db/index.ts';
import { ConflictError, NotFoundError } from '../errors.ts';

const { gatewayGroups, gateways, gatewayTags, groups, sites } = schema;

export type SiteKind = 'building' | 'intersection' | 'other';

/** A gateway tag: what rollouts target and claim tokens pre-assign. */
export const TAG = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a tag is 1-64 lower-case letters, digits, ".", "_" or "-"');

/** Sites and groups are found by name too (CSV import, rollout targets), so a name is unique. */
function insertUniquelyNamed(
  db: FleetDb,
  entity:
    | { type: 'site'; row: typeof sites.$inferInsert }
    | { type: 'group'; row: typeof groups.$inferInsert },
  actor: string,
  now: number,
): void {
  const { type, row } = entity;
  const table = type === 'site' ? sites : groups;
  writeTx(db, (tx) => {
    if (tx.select({ id: table.id }).from(table).where(eq(table.name, row.name)).get()) {
      throw new ConflictError(`a ${type} named ${JSON.stringify(row.name)} exists; pick another name`, {
        path: 'name',
      });
    }
    if (entity.type === 'site') tx.insert(sites).values(entity.row).run();
    else tx.insert(groups).values(entity.row).run();
    writeAudit(tx, { actor, action: `${type}.create`, entityType: type, entityId: row.id, after: row }, now);
  });
}

export function createSite(
  db: FleetDb,
  input: { name: string; kind: SiteKind; address?: string | undefined },
  actor: string,
  now = Date.now(),
) {
  const row = {
    id: `site_${randomUUID()}`,
    name: input.name,
    kind: input.kind,
    address: input.address ?? null,
    createdAt: now,
  };
  insertUniquelyNamed(db, { type: 'site', row }, actor, now);
  return row;
}

export function listSites(db: FleetDb) {
  return db.select().from(sites).orderBy(sites.name).all();
}

export function requireSite(db: FleetDb, id: string, path = 'siteId') {
  const s = db.select().from(sites).where(eq(sites.id, id)).get();
  if (!s) throw new NotFoundError('site', id, { path });
  return s;
}

export function createGroup(
  db: FleetDb,
  input: { name: string; description?: string | undefined },
  actor: string,
  now = Date.now(),
) {
  const row = {
    id: `grp_${randomUUID()}`,
    name: input.name,
    description: input.description ?? null,
    createdAt: now,
  };
  insertUniquelyNamed(db, { type: 'group', row }, actor, now);
  return row;
}

export function listGroups(db: FleetDb) {
  return db.select().from(groups).orderBy(groups.name).all();
}

export function requireGroup(db: FleetDb, id: string, path = 'groupId') {
  const g = db.select().from(groups).where(eq(groups.id, id)).get();
  if (!g) throw new NotFoundError('group', id, { path });
  return g;
}

export function newGatewayId(): string {
  return `gw_${randomBytes(12).toString('base64url')}`;
}

export type GatewayRow = typeof gateways.$inferSelect;

export interface GatewayView extends Omit<GatewayRow, 'num'> {
  groupIds: string[];
  tags: string[];
}

export function gatewayView(db: FleetDb, row: GatewayRow): GatewayView {
  const { num: _num, ...rest } = row;
  return {
    ...rest,
    groupIds: db
      .select({ g: gatewayGroups.groupId })
      .from(gatewayGroups)
      .where(eq(gatewayGroups.gatewayId, row.id))
      .all()
      .map((r) => r.g),
    tags: db
      .select({ t: gatewayTags.tag })
      .from(gatewayTags)
      .where(eq(gatewayTags.gatewayId, row.id))
      .all()
      .map((r) => r.t),
  };
}

export function requireGateway(db: FleetDb, id: string, path = 'gatewayId'): GatewayRow {
  const g = db.select().from(gateways).where(eq(gateways.id, id)).get();
  if (!g) throw new NotFoundError('gateway', id, { path });
  return g;
}

export function listGateways(db: FleetDb, filter: { siteId?: string; groupId?: string; tag?: string } = {}) {
  const conds = [];
  if (filter.siteId) conds.push(eq(gateways.siteId, filter.siteId));
  if (filter.groupId) {
    conds.push(
      inArray(
        gateways.id,
        db
          .select({ id: gatewayGroups.gatewayId })
          .from(gatewayGroups)
          .where(eq(gatewayGroups.groupId, filter.groupId)),
      ),
    );
  }
  if (filter.tag) {
    conds.push(
      inArray(
        gateways.id,
        db.select({ id: gatewayTags.gatewayId }).from(gatewayTags).where(eq(gatewayTags.tag, filter.tag)),
      ),
    );
  }
  return db
    .select()
    .from(gateways)
    .where(and(...conds))
    .orderBy(gateways.name)
    .all()
    .map((g) => gatewayView(db, g));
}

/** Gateway ids (active only) a rollout to this group or tag targets, in a stable order. */
export function targetGatewayIds(db: FleetDb, kind: 'group' | 'tag', value: string): string[] {
  const ids =
    kind === 'group'
      ? db.select({ id: gatewayGroups.gatewayId }).from(gatewayGroups).where(eq(gatewayGroups.groupId, value))
      : db.select({ id: gatewayTags.gatewayId }).from(gatewayTags).where(eq(gatewayTags.tag, value));
  return db
    .select({ id: gateways.id })
    .from(gateways)
    .where(and(eq(gateways.status, 'active'), inArray(gateways.id, ids)))
    .orderBy(gateways.id)
    .all()
    .map((r) => r.id);
}

export function updateGateway(
  db: FleetDb,
  id: string,
  patch: {
    name?: string | undefined;
    siteId?: string | null | undefined;
    groupIds?: string[] | undefined;
    tags?: string[] | undefined;
  },
  actor: string,
) {
  return writeTx(db, (tx) => {
    const before = gatewayView(tx, requireGateway(tx, id));
    if (patch.siteId) requireSite(tx, patch.siteId);
    const set: Partial<GatewayRow> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.siteId !== undefined) set.siteId = patch.siteId;
    if (Object.keys(set).length > 0) tx.update(gateways).set(set).where(eq(gateways.id, id)).run();
    if (patch.groupIds !== undefined) {
      patch.groupIds.forEach((g, i) => requireGroup(tx, g, `groupIds[${i}]`));
      tx.delete(gatewayGroups).where(eq(gatewayGroups.gatewayId, id)).run();
      for (const g of new Set(patch.groupIds))
        tx.insert(gatewayGroups).values({ gatewayId: id, groupId: g }).run();
    }
    if (patch.tags !== undefined) {
      tx.delete(gatewayTags).where(eq(gatewayTags.gatewayId, id)).run();
      for (const t of new Set(patch.tags)) tx.insert(gatewayTags).values({ gatewayId: id, tag: t }).run();
    }
    const after = gatewayView(tx, requireGateway(tx, id));
    writeAudit(tx, { actor, action: 'gateway.update', entityType: 'gateway', entityId: id, before, after });
    return after;
  });
}

export function revokeGateway(db: FleetDb, id: string, actor: string, now = Date.now()) {
  return writeTx(db, (tx) => {
    const before = requireGateway(tx, id);
    tx.update(gateways).set({ status: 'revoked', revokedAt: now }).where(eq(gateways.id, id)).run();
    writeAudit(tx, {
      actor,
      action: 'gateway.revoke',
      entityType: 'gateway',
      entityId: id,
      before: { status: before.status },
      after: { status: 'revoked', revokedAt: now },
    });
    return gatewayView(tx, requireGateway(tx, id));
  });
}

export function nextGatewayNum(db: FleetDb): number {
  const r = db
    .select({ n: sql<number>`coalesce(max(${gateways.num}), 0)` })
    .from(gateways)
    .get();
  return (r?.n ?? 0) + 1;
}
