// What every console route uses: the page context, role guards that answer with HTML pages, query
// validation that names the bad parameter, and the console's own error page mapping.
import type { Context } from 'hono';
import type { z } from 'zod';
import type { ApiEnv } from '../api-kit/index.ts';
import { type Principal, type Role, roleAtLeast } from '../core/index.ts';
import { BadRequestError } from '../errors.ts';
import { ErrorPage } from './error-page.tsx';
import type { Formatter } from './format.ts';
import type { PageCtx } from './layout.tsx';
import type { Lang, Translate } from './locales/index.ts';

export interface ConsoleEnv {
  Variables: ApiEnv['Variables'] & {
    lang: Lang;
    t: Translate;
    fmt: Formatter;
    /** URL prefix of every console page, e.g. "/console" (feature pages mount below it). */
    base: string;
  };
}
export type ConsoleContext = Context<ConsoleEnv>;

export function pageCtx(c: ConsoleContext): PageCtx {
  const url = new URL(c.req.url);
  return {
    t: c.var.t,
    fmt: c.var.fmt,
    lang: c.var.lang,
    principal: c.var.principal,
    base: c.var.base,
    here: url.pathname + url.search,
  };
}

export type PageHandler = (
  c: ConsoleContext,
  principal: Principal,
  ctx: PageCtx,
) => Response | Promise<Response>;

/** Sends a visitor without a session to sign in, and one whose role is too low to a 403 page. */
export function guard(role: Role, handler: PageHandler) {
  return async (c: ConsoleContext): Promise<Response> => {
    const ctx = pageCtx(c);
    const base = ctx.base;
    const principal = c.var.principal;
    if (!principal) {
      if (c.req.method !== 'GET') return c.redirect(`${base}/login`, 303);
      return c.redirect(`${base}/login?next=${encodeURIComponent(ctx.here)}`, 303);
    }
    if (!roleAtLeast(principal.role, role)) {
      return c.html(
        <ErrorPage
          ctx={ctx}
          message={ctx.t('error.forbidden', {
            role: ctx.t(`role.${principal.role}`),
            needed: ctx.t(`role.${role}`),
          })}
        />,
        403,
      );
    }
    return handler(c, principal, ctx);
  };
}

/** Validates query parameters; a bad one becomes a 400 naming `query.<parameter>`. */
export function parseQuery<S extends z.ZodType>(c: ConsoleContext, schema: S): z.output<S> {
  const r = schema.safeParse(c.req.query());
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const name = issue.path.map(String).join('.') || '(query)';
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown parameter ${JSON.stringify(issue.keys[0])}; remove it`
      : `${issue.message}`;
  throw new BadRequestError(`query parameter ${name}: ${message}`, {
    code: 'invalid-input',
    path: `query.${name}`,
  });
}

/** Form fields as strings (files are refused). */
export async function formFields(c: ConsoleContext): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string').join(',');
  }
  return out;
}
