// Bearer API tokens for scripts and provisioning laptops: shown once, stored as a hash, revocable,
// optionally expiring; the last use is kept to the minute.
import { randomBytes, randomUUID } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { revokeWithAudit, writeAudit } from '../audit/index.ts';
import type { Principal } from '../core/index.ts';
import { type FleetDb, loopWrite, schema, writeTx } from '../db/index.ts';
import { ForbiddenError, NotFoundError } from '../errors.ts';
import { hashSecret } from './users.ts';

const { apiTokens, users } = schema;

export const API_TOKEN_PREFIX = 'brt_';

export function createApiToken(
  db: FleetDb,
  userId: string,
  name: string,
  expiresAt: number | null,
  actor: string,
  now = Date.now(),
): { id: string; token: string } {
  const token = API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const id = `tok_${randomUUID()}`;
  writeTx(db, (tx) => {
    const user = tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).get();
    if (!user) throw new NotFoundError('user', userId);
    tx.insert(apiTokens)
      .values({ id, userId, name, tokenHash: hashSecret(token), createdAt: now, expiresAt })
      .run();
    writeAudit(tx, {
      actor,
      action: 'token.create',
      entityType: 'apiToken',
      entityId: id,
      after: { userId, name, expiresAt },
    });
  });
  return { id, token };
}

export function revokeApiToken(db: FleetDb, id: string, actor: string, now = Date.now()): void {
  revokeWithAudit(db, 'apiToken', id, actor, now);
}

export function principalFromToken(db: FleetDb, token: string, now = Date.now()): Principal | null {
  const row = db
    .select({
      tokenId: apiTokens.id,
      expiresAt: apiTokens.expiresAt,
      lastUsedAt: apiTokens.lastUsedAt,
      id: users.id,
      username: users.username,
      role: users.role,
      disabledAt: users.disabledAt,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(and(eq(apiTokens.tokenHash, hashSecret(token)), isNull(apiTokens.revokedAt)))
    .get();
  if (!row || row.disabledAt !== null) return null;
  if (row.expiresAt !== null && row.expiresAt <= now) return null;
  // To the minute: a script polling with its token would otherwise write on every request, and
  // each write on the event loop may wait for the telemetry writer's lock (telemetry/writer.ts).
  if (row.lastUsedAt === null || now - row.lastUsedAt >= 60_000)
    loopWrite(db, () =>
      db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.tokenId)).run(),
    );
  return { userId: row.id, username: row.username, role: row.role, via: 'token' };
}

/** Revokes a token: its owner may, an admin may revoke any. */
export function revokeApiTokenAs(db: FleetDb, id: string, principal: Principal, now = Date.now()): void {
  const t = db.select({ userId: apiTokens.userId }).from(apiTokens).where(eq(apiTokens.id, id)).get();
  if (!t) throw new NotFoundError('API token', id);
  if (t.userId !== principal.userId && principal.role !== 'admin') {
    throw new ForbiddenError('only the owner or an admin may revoke this token');
  }
  revokeApiToken(db, id, principal.userId, now);
}
