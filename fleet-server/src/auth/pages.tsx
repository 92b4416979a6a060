// The console's sign-in and sign-out: the same users, sessions and cookie as the API, with a
// limit on sign-in attempts per client address.
import { Hono } from 'hono';
import { clientKey, RateLimiter } from '../api-kit/index.ts';
import { type ConsoleEnv, formFields, pageCtx, safeNext } from '../console-shell/index.ts';
import type { FleetDb } from '../db/index.ts';
import { LoginPage } from './login-page.tsx';
import { endSession, login, setSessionCookie } from './sessions.ts';

export interface AuthPagesDeps {
  db: FleetDb;
  now(): number;
  /** Sign-in attempts per client address; default 10 at once, then one per 5 s. */
  loginRateLimit?: { perSecond: number; burst: number } | undefined;
}

export function authPages(deps: AuthPagesDeps): Hono<ConsoleEnv> {
  const { db, now } = deps;
  const app = new Hono<ConsoleEnv>();
  const loginLimiter = new RateLimiter(deps.loginRateLimit ?? { perSecond: 0.2, burst: 10 });

  app.get('/login', (c) => {
    if (c.var.principal) return c.redirect(safeNext(c.req.query('next'), c.var.base), 303);
    return c.html(<LoginPage ctx={pageCtx(c)} next={safeNext(c.req.query('next'), c.var.base)} />);
  });

  app.post('/login', async (c) => {
    const f = await formFields(c);
    const ctx = pageCtx(c);
    const next = safeNext(f.next, c.var.base);
    // Per client address (a shared bucket would let one guesser lock everyone out).
    const limit = loginLimiter.take(clientKey(c));
    if (!limit.allowed) {
      return c.html(
        <LoginPage
          ctx={ctx}
          next={next}
          username={f.username ?? ''}
          error={ctx.t('login.rateLimited', { s: limit.retryAfterS })}
        />,
        429,
      );
    }
    const r = await login(db, (f.username ?? '').trim(), f.password ?? '', now());
    if (!r) {
      return c.html(
        <LoginPage ctx={ctx} next={next} username={f.username ?? ''} error={ctx.t('login.failed')} />,
        401,
      );
    }
    setSessionCookie(c, r.cookie, r.expiresAt);
    return c.redirect(next, 303);
  });

  app.post('/logout', (c) => {
    endSession(c, db);
    return c.redirect(`${c.var.base}/login`, 303);
  });
  return app;
}
