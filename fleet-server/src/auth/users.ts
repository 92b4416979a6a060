// Operators: users with one of four roles (core/roles.ts), created with a one-time or given
// password (scrypt hash only), role changes and disabling, each with its audit row.
import { createHash, randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { writeAudit } from '../audit/index.ts';
import type { Role } from '../core/index.ts';
import { type FleetDb, schema, writeTx } from '../db/index.ts';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.ts';
import { generatePassword, hashPassword } from './passwords.ts';

const { sessions, users } = schema;
const USERNAME = /^[a-z][a-z0-9._-]{1,63}$/;

/** What is stored of a secret (session cookie, API token, claim token): its SHA-256, hex. */
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
