// Operators: users with one of four roles, cookie sessions and bearer API tokens.
// Only hashes of session cookies and tokens are stored.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { and, eq, gt, isNull, lt } from 'drizzle-orm';
import { revokeWithAudit, writeAudit } from '../audit/index.ts';
import { type FleetDb, loopWrite, writeTx } from '../db/index.ts';
import { apiTokens, sessions, users } from '../db/schema.ts';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.ts';
import { generatePassword, hashPassword, verifyPassword } from './passwords.ts';

export const ROLES = ['viewer', 'technician', 'fleetOperator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Roles are ordered: each may do everything the ones before it may. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

export interface Principal {
  userId: string;
  username: string;
  role: Role;
  via: 'session' | 'token';
}

export const SESSION_TTL_MS = 12 * 3600_000;
const USERNAME = /^[a-z][a-z0-9._-]{1,63}$/;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export async function createUser(
  db: FleetDb,
  input: { username: string; role: Role; password?: string },
  actor: string,
  now = Date.now(),
): Promise<{ id: string; username: string; role: Role; password: string }> {
  if (!USERNAME.test(input.username)) {
    throw new BadRequestError(
      'username must be 2-64 characters: a lower-case letter, then letters, digits, ".", "_" or "-"',
      { path: 'username' },
    );
  }
  if (input.password !== undefined && input.password.length < 12) {
    throw new BadRequestError('password must be at least 12 characters', { path: 'password' });
  }
  const password = input.password ?? generatePassword();
  const passwordHash = await hashPassword(password);
  const id = `usr_${randomUUID()}`;
  writeTx(db, (tx) => {
    const existing = tx.select({ id: users.id }).from(users).where(eq(users.username, input.username)).get();
    if (existing)
      throw new ConflictError(`user ${input.username} exists; pick another name`, { path: 'username' });
    tx.insert(users)
      .values({ id, username: input.username, passwordHash, role: input.role, createdAt: now })
      .run();
    writeAudit(tx, {
      actor,
      action: 'user.create',
      entityType: 'user',
      entityId: id,
      after: { username: input.username, role: input.role },
    });
  });
  return { id, username: input.username, role: input.role, password };
}

export function listUsers(db: FleetDb) {
  return db
    .select({
      id: users.id,
      username: users.username,
      role: users.role,
      createdAt: users.createdAt,
      disabledAt: users.disabledAt,
    })
    .from(users)
    .all();
}

export function setUserRole(db: FleetDb, userId: string, role: Role, actor: string): void {
  writeTx(db, (tx) => {
    const before = tx.select().from(users).where(eq(users.id, userId)).get();
    if (!before) throw new NotFoundError('user', userId);
    tx.update(users).set({ role }).where(eq(users.id, userId)).run();
    writeAudit(tx, {
      actor,
      action: 'user.role',
      entityType: 'user',
      entityId: userId,
      before: { role: before.role },
      after: { role },
    });
  });
}

export function disableUser(db: FleetDb, userId: string, actor: string, now = Date.now()): void {
  writeTx(db, (tx) => {
    const before = tx.select().from(users).where(eq(users.id, userId)).get();
    if (!before) throw new NotFoundError('user', userId);
    tx.update(users).set({ disabledAt: now }).where(eq(users.id, userId)).run();
    tx.delete(sessions).where(eq(sessions.userId, userId)).run();
    writeAudit(tx, {
      actor,
      action: 'user.disable',
      entityType: 'user',
      entityId: userId,
      before: { disabledAt: before.disabledAt },
      after: { disabledAt: now },
    });
  });
}

/** Checks a password and opens a session; returns the cookie value, or null for wrong credentials. */
export async function login(
  db: FleetDb,
  username: string,
  password: string,
  now = Date.now(),
): Promise<{ cookie: string; principal: Principal; expiresAt: number } | null> {
  const user = db.select().from(users).where(eq(users.username, username)).get();
  // Hash even for an unknown user so the timing does not reveal which names exist.
  const ok = await verifyPassword(
    password,
    user?.passwordHash ?? 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AA',
  );
  if (!user || !ok || user.disabledAt !== null) return null;
  const cookie = randomBytes(32).toString('base64url');
  const expiresAt = now + SESSION_TTL_MS;
  writeTx(db, (tx) => {
    tx.delete(sessions).where(lt(sessions.expiresAt, now)).run();
    tx.insert(sessions)
      .values({ tokenHash: hashSecret(cookie), userId: user.id, createdAt: now, expiresAt })
      .run();
  });
  return {
    cookie,
    expiresAt,
    principal: { userId: user.id, username: user.username, role: user.role, via: 'session' },
  };
}

export function logout(db: FleetDb, cookie: string): void {
  db.delete(sessions)
    .where(eq(sessions.tokenHash, hashSecret(cookie)))
    .run();
}

export function principalFromSession(db: FleetDb, cookie: string, now = Date.now()): Principal | null {
  const row = db
    .select({ id: users.id, username: users.username, role: users.role, disabledAt: users.disabledAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, hashSecret(cookie)), gt(sessions.expiresAt, now)))
    .get();
  if (!row || row.disabledAt !== null) return null;
  return { userId: row.id, username: row.username, role: row.role, via: 'session' };
}

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
