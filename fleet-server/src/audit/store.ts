// The audit log: who changed what, when, with the entity before and after the change.
// Write it inside the same transaction as the change so neither exists without the other.
import { and, desc, eq, gte, lte, type SQL } from 'drizzle-orm';
import { type FleetDb, schema, writeTx } from '../db/index.ts';
import { NotFoundError } from '../errors.ts';

const { apiTokens, auditLog, claimTokens } = schema;

export interface AuditEntry {
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
}

export function writeAudit(db: FleetDb, entry: AuditEntry, now = Date.now()): void {
  db.insert(auditLog)
    .values({
      at: now,
      actor: entry.actor,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId,
      before: entry.before ?? null,
      after: entry.after ?? null,
    })
    .run();
}

/** The credentials an operator can revoke: both keep the time in `revokedAt`. */
const REVOCABLE = {
  apiToken: { table: apiTokens, noun: 'API token', action: 'token.revoke' },
  claimToken: { table: claimTokens, noun: 'claim token', action: 'claim.revoke' },
} as const;

/**
 * Revokes an API token or a claim token: stamps `revokedAt` and writes the audit row (before and
 * after) in one transaction; NotFoundError when there is no such id.
 */
export function revokeWithAudit(
  db: FleetDb,
  entityType: keyof typeof REVOCABLE,
  id: string,
  actor: string,
  now = Date.now(),
): void {
  const { table, noun, action } = REVOCABLE[entityType];
  writeTx(db, (tx) => {
    const before = tx.select({ revokedAt: table.revokedAt }).from(table).where(eq(table.id, id)).get();
    if (!before) throw new NotFoundError(noun, id);
    tx.update(table).set({ revokedAt: now }).where(eq(table.id, id)).run();
    writeAudit(tx, { actor, action, entityType, entityId: id, before, after: { revokedAt: now } }, now);
  });
}

export interface AuditQuery {
  entityType?: string;
  entityId?: string;
  actor?: string;
  from?: number;
  to?: number;
  limit?: number;
}

export function listAudit(db: FleetDb, q: AuditQuery = {}) {
  const where: SQL[] = [];
  if (q.entityType) where.push(eq(auditLog.entityType, q.entityType));
  if (q.entityId) where.push(eq(auditLog.entityId, q.entityId));
  if (q.actor) where.push(eq(auditLog.actor, q.actor));
  if (q.from !== undefined) where.push(gte(auditLog.at, q.from));
  if (q.to !== undefined) where.push(lte(auditLog.at, q.to));
  return db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(q.limit ?? 100)
    .all();
}
