// The console's Hono sub-app: language and session middleware, sign-in, assets, live updates, pages.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { login, logout, principalFromSession } from '../auth/users.ts';
import type { FleetContext } from '../context.ts';
import { FleetError, ForbiddenError } from '../errors.ts';
import { SESSION_COOKIE } from '../http/api.ts';
import { clientKey } from '../http/app.ts';
import { RateLimiter } from '../http/rate-limit.ts';
import { formatter } from './format.ts';
import { type ConsoleEnv, formFields, pageCtx } from './kit.tsx';
import { registerLive } from './live.ts';
import { LANG_COOKIE, pickLang, translator } from './locales/index.ts';
import { ErrorPage, LoginPage } from './pages/login.tsx';
import { registerPages } from './routes.tsx';

export const DEFAULT_CONSOLE_BASE = '/console';

export interface ConsoleDeps {
  fleet: FleetContext;
  /** URL prefix of every console page; default "/console". Mount the result with app.route('/', …). */
  basePath?: string;
  /** Time zone for dates, days and nights; default Europe/Prague. */
  timeZone?: string;
  /** Sign-in attempts per client address; default 10 at once, then one per 5 s. */
  loginRateLimit?: { perSecond: number; burst: number };
}

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

interface Asset {
  type: string;
  body: string;
}

function loadAssets(): Map<string, Asset> {
  const uplotDir = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  const read = (p: string) => readFileSync(p, 'utf8');
  return new Map([
    ['console.css', { type: 'text/css; charset=utf-8', body: read(join(here, 'assets/console.css')) }],
    ['console.js', { type: 'text/javascript; charset=utf-8', body: read(join(here, 'assets/console.js')) }],
    ['uplot.js', { type: 'text/javascript; charset=utf-8', body: read(join(uplotDir, 'uPlot.iife.min.js')) }],
    ['uplot.css', { type: 'text/css; charset=utf-8', body: read(join(uplotDir, 'uPlot.min.css')) }],
  ]);
}

/** Only local paths may follow a sign-in, so a crafted link cannot send the user elsewhere. */
function safeNext(next: string | undefined, base: string): string {
  if (next?.startsWith(`${base}/`) && !next.startsWith('//') && !next.includes('\\')) return next;
  return `${base}/`;
}

export function createConsole(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const base = (deps.basePath ?? DEFAULT_CONSOLE_BASE).replace(/\/+$/, '');
  const timeZone = deps.timeZone ?? 'Europe/Prague';
  const fleet = deps.fleet;
  const app = new Hono<ConsoleEnv>();
  const assets = loadAssets();
  const loginLimiter = new RateLimiter(deps.loginRateLimit ?? { perSecond: 0.2, burst: 10 });

  const setup: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
    const lang = pickLang(getCookie(c, LANG_COOKIE), c.req.header('accept-language'));
    c.set('lang', lang);
    c.set('t', translator(lang));
    c.set('fmt', formatter(lang, timeZone));
    // The fleet app sets these for its own routes; the console must not depend on mount order.
    if (!c.var.fleet) c.set('fleet', fleet);
    const cookie = getCookie(c, SESSION_COOKIE);
    c.set('principal', cookie ? principalFromSession(fleet.db, cookie, fleet.now()) : null);
    if (c.req.method === 'POST') {
      // Forms are same-origin only (with the SameSite=Strict cookie this stops cross-site posts).
      const origin = c.req.header('origin');
      if (origin && origin !== 'null' && new URL(origin).host !== c.req.header('host')) {
        throw new ForbiddenError(c.var.t('error.badOrigin'));
      }
    }
    c.header('cache-control', 'no-store');
    await next();
  };
  app.use(base, setup);
  app.use(`${base}/*`, setup);

  app.get(`${base}/assets/:file`, (c) => {
    const a = assets.get(c.req.param('file'));
    if (!a) return c.html(<ErrorPage ctx={pageCtx(c, base)} message={c.var.t('error.notFound')} />, 404);
    c.header('cache-control', 'public, max-age=3600');
    return c.body(a.body, 200, { 'content-type': a.type });
  });

  app.get(`${base}/lang`, (c) => {
    const to = c.req.query('to') === 'en' ? 'en' : 'cs';
    setCookie(c, LANG_COOKIE, to, { path: '/', sameSite: 'Lax', maxAge: 365 * 86400 });
    return c.redirect(safeNext(c.req.query('back'), base), 303);
  });

  app.get(`${base}/login`, (c) => {
    if (c.var.principal) return c.redirect(safeNext(c.req.query('next'), base), 303);
    return c.html(<LoginPage ctx={pageCtx(c, base)} next={safeNext(c.req.query('next'), base)} />);
  });

  app.post(`${base}/login`, async (c) => {
    const f = await formFields(c);
    const ctx = pageCtx(c, base);
    const next = safeNext(f.next, base);
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
    const r = await login(fleet.db, (f.username ?? '').trim(), f.password ?? '', fleet.now());
    if (!r) {
      return c.html(
        <LoginPage ctx={ctx} next={next} username={f.username ?? ''} error={ctx.t('login.failed')} />,
        401,
      );
    }
    setCookie(c, SESSION_COOKIE, r.cookie, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: new URL(c.req.url).protocol === 'https:',
      expires: new Date(r.expiresAt),
    });
    return c.redirect(next, 303);
  });

  app.post(`${base}/logout`, (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie) logout(fleet.db, cookie);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect(`${base}/login`, 303);
  });

  registerLive(app, { fleet, base, timeZone });
  registerPages(app, { fleet, base, timeZone });
  app.all(`${base}/*`, (c) =>
    c.html(<ErrorPage ctx={pageCtx(c, base)} message={c.var.t('error.notFound')} />, 404),
  );

  app.onError((err, c) => {
    const ctx = pageCtx(c, base);
    if (err instanceof FleetError) {
      const details = Array.isArray(err.details)
        ? (err.details as { path?: string; message?: string }[])
            .slice(0, 20)
            .map((d) => `${d.path ?? ''}: ${d.message ?? ''}`)
            .join('; ')
        : undefined;
      return c.html(
        <ErrorPage
          ctx={ctx}
          message={details ? `${err.message} — ${details}` : err.message}
          where={err.path || undefined}
        />,
        (err.status >= 400 && err.status < 600 ? err.status : 500) as 400,
      );
    }
    fleet.log.error('console request failed', {
      method: c.req.method,
      path: c.req.path,
      error: String(err),
      stack: err.stack,
    });
    return c.html(<ErrorPage ctx={ctx} message={ctx.t('error.internal')} />, 500);
  });
  return app;
}
