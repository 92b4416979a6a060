// The console's Hono app around the feature pages: language and session middleware, same-origin
// forms, the language switch, assets, live updates, the 404 and error pages.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { FleetBus, Logger, Principal } from '../core/index.ts';
import { FleetError, ForbiddenError } from '../errors.ts';
import { ErrorPage } from './error-page.tsx';
import { formatter } from './format.ts';
import { type ConsoleContext, type ConsoleEnv, pageCtx } from './kit.tsx';
import { registerLive } from './live.ts';
import { LANG_COOKIE, pickLang, translator } from './locales/index.ts';

export const DEFAULT_CONSOLE_BASE = '/console';

export interface ConsoleShellDeps {
  /** Who the request's session cookie belongs to (the auth module), null without one. */
  principalOf(c: ConsoleContext): Principal | null;
  bus: FleetBus;
  log: Logger;
  /** The site a gateway belongs to (live intersection pages listen for their site's events). */
  siteOf(gatewayId: string): string | null;
  /** URL prefix of every console page; default "/console". */
  basePath?: string | undefined;
  /** Time zone for dates, days and nights; default Europe/Prague. */
  timeZone?: string | undefined;
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
export function safeNext(next: string | undefined, base: string): string {
  if (next?.startsWith(`${base}/`) && !next.startsWith('//') && !next.includes('\\')) return next;
  return `${base}/`;
}

export interface ConsoleShell {
  app: Hono<ConsoleEnv>;
  /** The console's URL prefix, without a trailing slash. */
  base: string;
  timeZone: string;
  /** Mounts a feature's pages below the prefix. */
  pages(sub: Hono<ConsoleEnv>): ConsoleShell;
  /** Answers every other console path with the 404 page; call after the last pages(). */
  done(): Hono<ConsoleEnv>;
}

export function consoleShell(deps: ConsoleShellDeps): ConsoleShell {
  const base = (deps.basePath ?? DEFAULT_CONSOLE_BASE).replace(/\/+$/, '');
  const timeZone = deps.timeZone ?? 'Europe/Prague';
  const app = new Hono<ConsoleEnv>();
  const assets = loadAssets();

  const setup: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
    const lang = pickLang(getCookie(c, LANG_COOKIE), c.req.header('accept-language'));
    c.set('lang', lang);
    c.set('t', translator(lang));
    c.set('fmt', formatter(lang, timeZone));
    c.set('base', base);
    c.set('principal', deps.principalOf(c));
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
    if (!a) return c.html(<ErrorPage ctx={pageCtx(c)} message={c.var.t('error.notFound')} />, 404);
    c.header('cache-control', 'public, max-age=3600');
    return c.body(a.body, 200, { 'content-type': a.type });
  });

  app.get(`${base}/lang`, (c) => {
    const to = c.req.query('to') === 'en' ? 'en' : 'cs';
    setCookie(c, LANG_COOKIE, to, { path: '/', sameSite: 'Lax', maxAge: 365 * 86400 });
    return c.redirect(safeNext(c.req.query('back'), base), 303);
  });

  registerLive(app, base, deps);

  app.onError((err, c) => {
    const ctx = pageCtx(c);
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
    deps.log.error('console request failed', {
      method: c.req.method,
      path: c.req.path,
      error: String(err),
      stack: err.stack,
    });
    return c.html(<ErrorPage ctx={ctx} message={ctx.t('error.internal')} />, 500);
  });

  const shell: ConsoleShell = {
    app,
    base,
    timeZone,
    pages(sub) {
      app.route(base, sub);
      // Hono joins the prefix and '/' into the prefix alone; a page at '/' answers at both.
      for (const r of sub.routes)
        if (r.path === '/' && r.method !== 'ALL') app.on(r.method, `${base}/`, r.handler);
      return shell;
    },
    done() {
      app.all(`${base}/*`, (c) =>
        c.html(<ErrorPage ctx={pageCtx(c)} message={c.var.t('error.notFound')} />, 404),
      );
      return app;
    },
  };
  return shell;
}
