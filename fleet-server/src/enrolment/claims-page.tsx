// Claim tokens for technicians: create (shown once, with a QR code to print), list, revoke.
import { Badge, type PageCtx } from '../console-shell/index.ts';
import type { CreatedClaimToken } from './claims.ts';

export interface ClaimRow {
  id: string;
  gatewayName: string | null;
  siteId: string | null;
  groupId: string | null;
  tags: string[] | null;
  createdAt: number;
  createdBy: string;
  expiresAt: number;
  usedByGatewayId: string | null;
  state: string;
}

export function ClaimsPage(props: {
  ctx: PageCtx;
  claims: ClaimRow[];
  sites: { id: string; name: string }[];
  groups: { id: string; name: string }[];
  created?: { token: CreatedClaimToken; qrSvg: string; siteName: string | null } | undefined;
}) {
  const { ctx, created } = props;
  const { t, fmt, base } = ctx;
  const siteName = new Map(props.sites.map((s) => [s.id, s.name]));
  return (
    <>
      {created ? (
        <section class="card printable" id="created-token">
          <p class="ok no-print">{t('claims.created')}</p>
          <div class="qr" dangerouslySetInnerHTML={{ __html: created.qrSvg }} />
          <p class="token" data-token={created.token.token}>
            {created.token.token}
          </p>
          <p>
            {created.token.gatewayName ?? ''} {created.siteName ? `· ${created.siteName}` : ''} ·{' '}
            {t('claims.expires')} {fmt.dateTime(created.token.expiresAt)}
          </p>
          <button type="button" data-print="1" class="no-print">
            {t('claims.print')}
          </button>
        </section>
      ) : null}
      <form class="card filters no-print" method="post" action={`${base}/claims`}>
        <h2 style="width:100%;margin:0">{t('claims.create')}</h2>
        <label>
          {t('claims.gatewayName')}
          <input name="gatewayName" maxlength={200} />
        </label>
        <label>
          {t('common.site')}
          <select name="siteId">
            <option value="">{t('common.none')}</option>
            {props.sites.map((s) => (
              <option value={s.id}>{s.name}</option>
            ))}
          </select>
        </label>
        <label>
          {t('claims.group')}
          <select name="groupId">
            <option value="">{t('common.none')}</option>
            {props.groups.map((g) => (
              <option value={g.id}>{g.name}</option>
            ))}
          </select>
        </label>
        <label>
          {t('claims.tags')}
          <input name="tags" />
        </label>
        <label>
          {t('claims.expiresInHours')}
          <input name="expiresInHours" value="168" inputmode="numeric" />
        </label>
        <button type="submit">{t('claims.submit')}</button>
      </form>
      <div class="table-wrap no-print">
        <table>
          <thead>
            <tr>
              <th>{t('claims.gatewayName')}</th>
              <th>{t('common.site')}</th>
              <th>{t('common.state')}</th>
              <th>{t('claims.expires')}</th>
              <th>{t('common.createdBy')}</th>
              <th>{t('claims.usedBy')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {props.claims.map((c) => (
              <tr data-claim={c.id}>
                <td>
                  {c.gatewayName ?? '–'}
                  <div class="sub">{c.id}</div>
                </td>
                <td>{c.siteId ? (siteName.get(c.siteId) ?? c.siteId) : '–'}</td>
                <td>
                  <Badge kind={c.state}>{t(`cstate.${c.state as 'open'}`)}</Badge>
                </td>
                <td class="nowrap">{fmt.dateTime(c.expiresAt)}</td>
                <td>{c.createdBy}</td>
                <td>{c.usedByGatewayId ?? ''}</td>
                <td>
                  {c.state === 'open' ? (
                    <form
                      method="post"
                      action={`${base}/claims/${encodeURIComponent(c.id)}/revoke`}
                      class="inline"
                    >
                      <button type="submit" class="danger">
                        {t('claims.revoke')}
                      </button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
