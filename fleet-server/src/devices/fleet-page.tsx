// The fleet list: every gateway with site, state, config version and firmware health; filter and search.
import { Badge, type PageCtx } from '../console-shell/index.ts';
import { type FleetRow, type GatewayState, gatewayState, HEALTH_COUNTERS } from './overview.ts';

export const FLEET_STATES = [
  'online',
  'offline',
  'never',
  'applying',
  'rolledBack',
  'failed',
  'revoked',
] as const;

export interface FleetFilter {
  q?: string | undefined;
  state?: GatewayState | undefined;
  site?: string | undefined;
}

export function filterFleet(rows: FleetRow[], online: (id: string) => boolean, f: FleetFilter) {
  const q = f.q?.trim().toLowerCase();
  return rows
    .map((r) => ({ ...r, state: gatewayState(r, online(r.id)) }))
    .filter((r) => (f.state ? r.state === f.state : true))
    .filter((r) => (f.site ? r.siteId === f.site : true))
    .filter((r) =>
      q ? [r.name, r.id, r.siteName ?? '', r.hostname ?? ''].some((s) => s.toLowerCase().includes(q)) : true,
    );
}

export function StateBadge(props: {
  ctx: PageCtx;
  row: { state: GatewayState; lastSeenAt: number | null; desiredVersion: number | null };
}) {
  const { t, fmt } = props.ctx;
  const r = props.row;
  switch (r.state) {
    case 'offline':
      return <Badge kind="offline">{t('state.offlineSince', { time: fmt.dateTime(r.lastSeenAt) })}</Badge>;
    case 'applying':
      return <Badge kind="applying">{t('state.applying', { version: r.desiredVersion ?? '?' })}</Badge>;
    default:
      return <Badge kind={r.state}>{t(`state.${r.state}`)}</Badge>;
  }
}

export function HealthCell(props: { ctx: PageCtx; row: FleetRow }) {
  const { t, fmt } = props.ctx;
  const h = props.row.health;
  const known = HEALTH_COUNTERS.filter((k) => h[k] !== undefined);
  if (known.length === 0) return <span class="muted">{t('health.unknown')}</span>;
  const bad = known.filter((k) => (h[k] ?? 0) > 0);
  if (bad.length === 0) return <Badge kind="online">{t('health.ok')}</Badge>;
  return (
    <span class="health-bad">
      {bad.map((k) => (
        <span class="nowrap">
          {fmt.number(h[k] ?? 0, 0)} {t(`health.${k}`)}{' '}
        </span>
      ))}
    </span>
  );
}

export function FleetPage(props: {
  ctx: PageCtx;
  rows: (FleetRow & { state: GatewayState })[];
  total: number;
  online: number;
  sites: { id: string; name: string }[];
  filter: FleetFilter;
}) {
  const { ctx, rows, filter } = props;
  const { t, fmt, base } = ctx;
  return (
    <>
      <p class="summary">{t('fleet.summary', { total: props.total, online: props.online })}</p>
      <form class="filters" method="get" action={`${base}/`}>
        <label>
          {t('common.search')}
          <input type="search" name="q" value={filter.q ?? ''} placeholder={t('fleet.searchPlaceholder')} />
        </label>
        <label>
          {t('common.state')}
          <select name="state">
            <option value="">{t('common.all')}</option>
            {FLEET_STATES.map((s) => (
              <option value={s} selected={filter.state === s}>
                {t(`state.${s}`).replace(' v{version}', '')}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('common.site')}
          <select name="site">
            <option value="">{t('common.all')}</option>
            {props.sites.map((s) => (
              <option value={s.id} selected={filter.site === s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">{t('common.filter')}</button>
      </form>
      <div class="table-wrap" id="fleet-table" data-live-region="1">
        <table class="fleet">
          <thead>
            <tr>
              <th>{t('common.gateway')}</th>
              <th>{t('common.site')}</th>
              <th>{t('common.state')}</th>
              <th>{t('fleet.config')}</th>
              <th>{t('fleet.health')}</th>
              <th>{t('fleet.lastSeen')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colspan={6} class="muted">
                  {t('fleet.noGateways')}
                </td>
              </tr>
            ) : (
              rows.map((r) => (
                <tr data-gateway={r.id}>
                  <td>
                    <a href={`${base}/gateways/${encodeURIComponent(r.id)}`}>{r.name}</a>
                    <div class="sub">{r.id}</div>
                  </td>
                  <td>{r.siteName ?? '–'}</td>
                  <td class="state">
                    <StateBadge ctx={ctx} row={r} />
                  </td>
                  <td>
                    {r.runningVersion === null ? '–' : `v${r.runningVersion}`}
                    {r.desiredVersion !== null && r.desiredVersion !== r.runningVersion
                      ? ` / v${r.desiredVersion}`
                      : ''}
                  </td>
                  <td>
                    <HealthCell ctx={ctx} row={r} />
                  </td>
                  <td>{fmt.dateTime(r.lastSeenAt)}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </>
  );
}
