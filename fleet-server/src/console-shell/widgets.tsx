// Small parts several feature pages show: an event log table, and the form that picks two config
// versions to compare.
import { Badge, type PageCtx } from './layout.tsx';

/** An event as tables show it. */
export interface EventRowView {
  gatewayId: string;
  ts: number;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  data: Record<string, unknown>;
}

export function EventsTable(props: { ctx: PageCtx; events: EventRowView[]; showGateway?: boolean }) {
  const { t, fmt } = props.ctx;
  if (props.events.length === 0) return <p class="muted">{t('common.noData')}</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>{t('common.time')}</th>
            {props.showGateway ? <th>{t('common.gateway')}</th> : null}
            <th>{t('common.kind')}</th>
            <th>{t('common.severity')}</th>
            <th>{t('common.details')}</th>
          </tr>
        </thead>
        <tbody>
          {props.events.map((e) => (
            <tr data-event={e.kind}>
              <td class="nowrap">{fmt.dateTime(e.ts)}</td>
              {props.showGateway ? <td>{e.gatewayId}</td> : null}
              <td>{e.kind}</td>
              <td>
                <Badge kind={e.severity}>{e.severity}</Badge>
              </td>
              <td class="sub">{Object.keys(e.data).length ? JSON.stringify(e.data) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DiffPicker(props: { ctx: PageCtx; versions: number[]; a?: number; b?: number }) {
  const { t, base } = props.ctx;
  if (props.versions.length < 2) return null;
  const a = props.a ?? props.versions[1];
  const b = props.b ?? props.versions[0];
  return (
    <form class="filters" method="get" action={`${base}/configs/diff`}>
      <label>
        {t('common.from')}
        <select name="a">
          {props.versions.map((v) => (
            <option value={String(v)} selected={v === a}>
              v{v}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('common.to')}
        <select name="b">
          {props.versions.map((v) => (
            <option value={String(v)} selected={v === b}>
              v{v}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">{t('gateway.compare')}</button>
    </form>
  );
}
