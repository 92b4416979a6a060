// Cookie sessions: sign-in checks the password and stores only the hash of a random cookie; the
// one cookie helper sets and clears it the same way for the API and the console.
import { randomBytes } from 'node:crypto';
import { and, eq, gt, lt } from 'drizzle-orm';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Principal } from '../core/index.ts';
import { type FleetDb, schema, writeTx } from '../db/index.ts';
import { verifyPassword } from './passwords.ts';
import { hashSecret } from './users.ts';

const { sessions, users } = schema;

export const SESSION_COOKIE = 'brana_session';
export const SESSION_TTL_MS = 12 * 3600_000;

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

/**
 * Sets the session cookie: HttpOnly, SameSite=Strict, for the whole site, Secure when the request
 * came over HTTPS, expiring with the session.
 */
export function setSessionCookie(c: Context, cookie: string, expiresAt: number): void {
  setCookie(c, SESSION_COOKIE, cookie, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/',
    secure: new URL(c.req.url).protocol === 'https:',
    expires: new Date(expiresAt),
  });
}

/** The session cookie this request carries, if any. */
export function sessionCookieOf(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/** Ends the request's session (if it has one) and clears its cookie. */
export function endSession(c: Context, db: FleetDb): void {
  const cookie = sessionCookieOf(c);
  if (cookie) logout(db, cookie);
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
}
