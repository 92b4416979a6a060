// One gateway: its channels with live values, a chart of one channel over a chosen range, its
// events and the config versions it was sent, with a link to the diff between two of them.
import type { EventRow, SeriesResult } from '../../telemetry/index.ts';
import { Badge, type PageCtx } from '../layout.tsx';
import type { GatewayState, LatestValue } from '../queries.ts';

export const RANGES = {
  '1h': 3600_000,
  '24h': 86400_000,
  '7d': 7 * 86400_000,
  '30d': 30 * 86400_000,
  '365d': 365 * 86400_000,
} as const;
export type RangeKey = keyof typeof RANGES;

const QUALITY = ['good', 'uncertain', 'bad'];

export interface ChartSpec {
  x: number[];
  series: { label: string; values: (number | null)[] }[];
  unit: string;
  live?: boolean;
  bars?: boolean;
}

/** Series points → a uPlot spec (x in seconds); min/max bands when the points are buckets. */
export function seriesChart(r: SeriesResult, live: boolean): ChartSpec {
  const x = r.points.map((p) => p.t / 1000);
  const series = [{ label: r.channel, values: r.points.map((p) => p.avg) }];
  if (r.bucketMs > 0) {
    series.push({ label: 'min', values: r.points.map((p) => p.min) });
    series.push({ label: 'max', values: r.points.map((p) => p.max) });
  }
  return { x, series, unit: r.unit ?? '', live };
}

/** JSON for a <script type="application/json"> block: "<" escaped so no text can close the tag. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function Chart(props: { id: string; spec: ChartSpec }) {
  return (
    <div class="chart" data-chart={props.id}>
      <script type="application/json" dangerouslySetInnerHTML={{ __html: jsonForScript(props.spec) }} />
    </div>
  );
}

export function EventsTable(props: { ctx: PageCtx; events: EventRow[]; showGateway?: boolean }) {
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

export function GatewayPage(props: {
  ctx: PageCtx;
  gateway: {
    id: string;
    name: string;
    siteName: string | null;
    hostname: string | null;
    agentVersion: string | null;
    enrolledAt: number;
  };
  stateBadge: unknown;
  state: GatewayState;
  values: LatestValue[];
  chart: { channel: string; range: RangeKey; spec: ChartSpec | null; from: string; to: string };
  events: EventRow[];
  history: { version: number; rolloutId: string; state: string; updatedAt: number; comment: string | null }[];
  versions: number[];
}) {
  const { ctx, gateway: g } = props;
  const { t, fmt, base } = ctx;
  const self = `${base}/gateways/${encodeURIComponent(g.id)}`;
  return (
    <>
      <p class="summary">
        <span class="live-dot" />
        {props.stateBadge as never}{' '}
        {t('gateway.info', {
          site: g.siteName ?? '–',
          hostname: g.hostname ?? '–',
          agent: g.agentVersion ?? '–',
          enrolled: fmt.dateTime(g.enrolledAt),
        })}
      </p>
      <div class="grid">
        <section>
          <h2>{t('gateway.channels')}</h2>
          {props.values.length === 0 ? (
            <p class="muted">{t('gateway.noChannels')}</p>
          ) : (
            <div class="table-wrap">
              <table class="channels">
                <thead>
                  <tr>
                    <th>{t('gateway.channel')}</th>
                    <th class="num">{t('gateway.value')}</th>
                    <th>{t('gateway.updated')}</th>
                  </tr>
                </thead>
                <tbody>
                  {props.values.map((v) => (
                    <tr data-channel={v.channel} data-value={String(v.value)}>
                      <td>
                        <a
                          href={`${self}?channel=${encodeURIComponent(v.channel)}&range=${props.chart.range}`}
                        >
                          {v.channel}
                        </a>
                        {v.quality !== null && v.quality > 0 ? (
                          <span class="sub"> ({QUALITY[v.quality]})</span>
                        ) : null}
                      </td>
                      <td class="num nowrap">
                        <span class="v">{fmt.number(v.value, 3)}</span>{' '}
                        <span class="sub">{v.unit ?? ''}</span>
                      </td>
                      <td class="ts nowrap">{v.ts === null ? '–' : fmt.time(v.ts)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
        <section>
          <h2>{t('gateway.chart')}</h2>
          <form class="filters" method="get" action={self}>
            <label>
              {t('gateway.channel')}
              <select name="channel">
                {props.values.map((v) => (
                  <option value={v.channel} selected={v.channel === props.chart.channel}>
                    {v.channel}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('gateway.range')}
              <select name="range">
                {(Object.keys(RANGES) as RangeKey[]).map((r) => (
                  <option value={r} selected={r === props.chart.range}>
                    {t(`gateway.range.${r}`)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('common.from')}
              <input type="date" name="from" value={props.chart.from} />
            </label>
            <label>
              {t('common.to')}
              <input type="date" name="to" value={props.chart.to} />
            </label>
            <button type="submit">{t('common.show')}</button>
          </form>
          {props.chart.spec ? (
            props.chart.spec.x.length > 0 ? (
              <Chart id={props.chart.channel} spec={props.chart.spec} />
            ) : (
              <p class="muted">{t('common.noData')}</p>
            )
          ) : null}
        </section>
      </div>
      <h2>{t('gateway.events')}</h2>
      <div id="gateway-events" data-live-region="1">
        <EventsTable ctx={ctx} events={props.events} />
      </div>
      <h2>{t('gateway.configHistory')}</h2>
      {props.history.length === 0 ? (
        <p class="muted">{t('common.noData')}</p>
      ) : (
        <div class="table-wrap" id="gateway-history" data-live-region="1">
          <table>
            <thead>
              <tr>
                <th>{t('common.version')}</th>
                <th>{t('common.state')}</th>
                <th>{t('gateway.updated')}</th>
                <th>{t('common.comment')}</th>
                <th>{t('gateway.diff')}</th>
              </tr>
            </thead>
            <tbody>
              {props.history.map((h, i) => {
                const older = props.history[i + 1];
                return (
                  <tr>
                    <td>
                      <a href={`${base}/configs/${h.version}`}>v{h.version}</a>
                    </td>
                    <td>
                      <Badge kind={h.state}>{t(`rstate.${h.state as 'applied'}`)}</Badge>
                    </td>
                    <td>{fmt.dateTime(h.updatedAt)}</td>
                    <td>{h.comment ?? ''}</td>
                    <td>
                      {older ? (
                        <a href={`${base}/configs/diff?a=${older.version}&b=${h.version}`}>
                          v{older.version} → v{h.version}
                        </a>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <DiffPicker ctx={ctx} versions={props.versions} />
    </>
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
