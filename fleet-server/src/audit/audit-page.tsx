// The audit log: who changed what and when, with the entity before and after.
import type { PageCtx } from '../console-shell/index.ts';

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
}

export function AuditPage(props: {
  ctx: PageCtx;
  rows: AuditRow[];
  actors: Map<string, string>;
  filter: { entityType?: string | undefined; actor?: string | undefined };
}) {
  const { ctx } = props;
  const { t, fmt, base } = ctx;
  const show = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v));
  return (
    <>
      <form class="filters" method="get" action={`${base}/audit`}>
        <label>
          {t('audit.entity')}
          <input
            name="entityType"
            value={props.filter.entityType ?? ''}
            placeholder="gateway, rollout, config…"
          />
        </label>
        <label>
          {t('audit.actor')}
          <input name="actor" value={props.filter.actor ?? ''} />
        </label>
        <button type="submit">{t('common.filter')}</button>
      </form>
      <div class="table-wrap">
        <table class="audit">
          <thead>
            <tr>
              <th>{t('common.time')}</th>
              <th>{t('audit.actor')}</th>
              <th>{t('audit.action')}</th>
              <th>{t('audit.entity')}</th>
              <th>{t('audit.before')}</th>
              <th>{t('audit.after')}</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr data-action={r.action}>
                <td class="nowrap">{fmt.dateTime(r.at)}</td>
                <td>{props.actors.get(r.actor) ?? r.actor}</td>
                <td>{r.action}</td>
                <td>
                  {r.entityType}
                  <div class="sub">{r.entityId}</div>
                </td>
                <td class="sub">{show(r.before)}</td>
                <td class="sub">{show(r.after)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
