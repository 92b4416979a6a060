// The page shell every console page shares: head, navigation by role, language switch, main area.
import type { Child } from 'hono/jsx';
import { type Principal, type Role, roleAtLeast } from '../core/index.ts';
import type { Formatter } from './format.ts';
import type { Lang, MessageKey, Translate } from './locales/index.ts';

export interface PageCtx {
  t: Translate;
  fmt: Formatter;
  lang: Lang;
  principal: Principal | null;
  /** URL prefix of the console, e.g. "/console". */
  base: string;
  /** Path and query of this request (for the language switch to come back to). */
  here: string;
}

/** Who sees which page: the minimum role, also enforced by each route. */
export const NAV: { key: MessageKey; path: string; role: Role }[] = [
  { key: 'nav.fleet', path: '/', role: 'viewer' },
  { key: 'nav.energy', path: '/energy', role: 'viewer' },
  { key: 'nav.intersections', path: '/intersections', role: 'viewer' },
  { key: 'nav.configs', path: '/configs', role: 'viewer' },
  { key: 'nav.rollouts', path: '/rollouts', role: 'viewer' },
  { key: 'nav.claims', path: '/claims', role: 'technician' },
  { key: 'nav.audit', path: '/audit', role: 'admin' },
];

export function Layout(props: {
  ctx: PageCtx;
  title: string;
  active?: string;
  /** SSE URL the client script listens to; live regions refresh on its events. */
  live?: string;
  scripts?: string[];
  children?: Child;
}) {
  const { ctx } = props;
  const { t, base, principal } = ctx;
  const other: Lang = ctx.lang === 'cs' ? 'en' : 'cs';
  return (
    <html lang={ctx.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · ${t('app.title')}`}</title>
        <link rel="stylesheet" href={`${base}/assets/console.css`} />
        {props.scripts?.includes('uplot') ? (
          <link rel="stylesheet" href={`${base}/assets/uplot.css`} />
        ) : null}
      </head>
      <body data-base={base} data-live={props.live ?? ''} data-lang={ctx.lang} data-tz={ctx.fmt.timeZone}>
        <header class="top">
          <a class="brand" href={`${base}/`}>
            {t('app.title')}
          </a>
          {principal ? (
            <nav>
              {NAV.filter((n) => roleAtLeast(principal.role, n.role)).map((n) => (
                <a href={`${base}${n.path}`} class={props.active === n.path ? 'active' : ''}>
                  {t(n.key)}
                </a>
              ))}
            </nav>
          ) : null}
          <div class="who">
            <a class="lang" href={`${base}/lang?to=${other}&back=${encodeURIComponent(ctx.here)}`}>
              {t('lang.switch')}
            </a>
            {principal ? (
              <form method="post" action={`${base}/logout`} class="inline">
                <span class="user">
                  {t('nav.signedInAs', { user: principal.username, role: t(`role.${principal.role}`) })}
                </span>
                <button type="submit" class="link">
                  {t('nav.signOut')}
                </button>
              </form>
            ) : null}
          </div>
        </header>
        <main>
          <h1>{props.title}</h1>
          {props.children}
        </main>
        {props.scripts?.includes('uplot') ? <script src={`${base}/assets/uplot.js`} /> : null}
        <script src={`${base}/assets/console.js`} />
      </body>
    </html>
  );
}

/** A state word with its colour class. */
export function Badge(props: { kind: string; children?: Child }) {
  return <span class={`badge b-${props.kind}`}>{props.children}</span>;
}
