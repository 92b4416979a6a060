// The API of operators' accounts: sign-in and out, who am I, users (admin), API tokens.
import { z } from 'zod';
import { ApiRouter } from '../api-kit/index.ts';
import { ROLES } from '../core/index.ts';
import { UnauthorizedError } from '../errors.ts';
import type { AuthDeps } from './middleware.ts';
import { endSession, login, setSessionCookie } from './sessions.ts';
import { createApiToken, revokeApiTokenAs } from './tokens.ts';
import { createUser, disableUser, listUsers, setUserRole } from './users.ts';

const roleSchema = z.enum(ROLES);
const name = z.string().trim().min(1).max(200);

export function authApi(deps: AuthDeps): ApiRouter {
  const { db, now } = deps;
  return new ApiRouter()
    .route(
      {
        method: 'post',
        path: '/auth/login',
        summary: 'Sign in; sets the session cookie',
        tag: 'auth',
        access: 'public',
        body: z.strictObject({ username: z.string().max(64), password: z.string().max(1024) }),
      },
      async (c, { body }) => {
        const r = await login(db, body.username, body.password, now());
        if (!r) throw new UnauthorizedError('wrong username or password');
        setSessionCookie(c, r.cookie, r.expiresAt);
        return c.json({ user: r.principal, expiresAt: r.expiresAt }, 200);
      },
    )
    .route(
      { method: 'post', path: '/auth/logout', summary: 'Sign out', tag: 'auth', access: 'viewer' },
      (c) => {
        endSession(c, db);
        return c.json({ ok: true }, 200);
      },
    )
    .route(
      { method: 'get', path: '/auth/me', summary: 'Who am I', tag: 'auth', access: 'viewer' },
      (_c, { principal }) => principal,
    )
    .route({ method: 'get', path: '/users', summary: 'List users', tag: 'users', access: 'admin' }, () =>
      listUsers(db),
    )
    .route(
      {
        method: 'post',
        path: '/users',
        summary: 'Create a user; the answer holds a one-time password unless one was given',
        tag: 'users',
        access: 'admin',
        body: z.strictObject({
          username: z.string(),
          role: roleSchema,
          password: z.string().min(12).max(1024).optional(),
        }),
      },
      async (_c, { body, actor }) => {
        const u = await createUser(db, body, actor, now());
        return {
          id: u.id,
          username: u.username,
          role: u.role,
          password: body.password ? undefined : u.password,
        };
      },
    )
    .route(
      {
        method: 'patch',
        path: '/users/:id',
        summary: 'Change a user’s role or disable the user',
        tag: 'users',
        access: 'admin',
        body: z.strictObject({ role: roleSchema.optional(), disabled: z.literal(true).optional() }),
      },
      (c, { body, actor }) => {
        const userId = c.req.param('id')!;
        if (body.role) setUserRole(db, userId, body.role, actor);
        if (body.disabled) disableUser(db, userId, actor, now());
        return listUsers(db).find((u) => u.id === userId);
      },
    )
    .route(
      {
        method: 'post',
        path: '/tokens',
        summary: 'Create an API token for yourself (shown once)',
        tag: 'users',
        access: 'viewer',
        body: z.strictObject({ name, expiresInDays: z.number().int().min(1).max(3650).optional() }),
      },
      (_c, { body, principal, actor }) => {
        const at = now();
        const expiresAt = body.expiresInDays ? at + body.expiresInDays * 86400_000 : null;
        return { ...createApiToken(db, principal.userId, body.name, expiresAt, actor, at), expiresAt };
      },
    )
    .route(
      {
        method: 'delete',
        path: '/tokens/:id',
        summary: 'Revoke an API token (yours, or any as admin)',
        tag: 'users',
        access: 'viewer',
      },
      (c, { principal }) => {
        revokeApiTokenAs(db, c.req.param('id')!, principal, now());
        return { ok: true };
      },
    );
}
