// Who asks: the bearer token or the session cookie of an API request becomes c.var.principal.
import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from '../api-kit/index.ts';
import type { Principal } from '../core/index.ts';
import type { FleetDb } from '../db/index.ts';
import { UnauthorizedError } from '../errors.ts';
import { principalFromSession, sessionCookieOf } from './sessions.ts';
import { principalFromToken } from './tokens.ts';

export interface AuthDeps {
  db: FleetDb;
  now(): number;
}

/**
 * Sets c.var.principal from "Authorization: Bearer …" (an unknown or revoked token is a 401 at
 * once) or else the session cookie; null when there is neither.
 */
export function authenticate(deps: AuthDeps): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    let principal: Principal | null = null;
    const auth = c.req.header('authorization');
    if (auth?.startsWith('Bearer ')) {
      principal = principalFromToken(deps.db, auth.slice(7).trim(), deps.now());
      if (!principal)
        throw new UnauthorizedError('the bearer token is unknown, revoked or expired; create a new one');
    } else {
      const cookie = sessionCookieOf(c);
      if (cookie) principal = principalFromSession(deps.db, cookie, deps.now());
    }
    c.set('principal', principal);
    await next();
  };
}
