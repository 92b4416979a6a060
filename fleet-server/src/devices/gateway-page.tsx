// One gateway: its channels with live values, a chart of one channel over a chosen range, its
// events and the config versions it was sent, with a link to the diff between two of them.
import {
  Badge,
  Chart,
  type ChartSpec,
  DiffPicker,
  type EventRowView,
  EventsTable,
  type PageCtx,
} from '../console-shell/index.ts';
import type { GatewayState } from './overview.ts';

/** A channel's latest value, as the page shows it. */
export interface LatestValue {
  channel: string;
  unit: string | null;
  kind: string | null;
  ts: number | null;
  value: number | null;
  quality: number | null;
}

/** One channel's points over a range (raw readings or buckets with min and max). */
export interface SeriesView {
  channel: string;
  unit: string | null;
  /** 0 = raw readings; otherwise the bucket width in ms */
  bucketMs: number;
  points: { t: number; avg: number | null; min: number | null; max: number | null }[];
}

/** A config version the gateway was sent in a rollout, and how it ended there. */
export interface ConfigHistoryRow {
  version: number;
  rolloutId: string;
  state: string;
  updatedAt: number;
  comment: string | null;
}

export const RANGES = {
  '1h': 3600_000,
  '24h': 86400_000,
  '7d': 7 * 86400_000,
  '30d': 30 * 86400_000,
  '365d': 365 * 86400_000,
} as const;
export type RangeKey = keyof typeof RANGES;

const QUALITY = ['good', 'uncertain', 'bad'];

/** Series points → a uPlot spec (x in seconds); min/max bands when the points are buckets. */
export function seriesChart(r: SeriesView, live: boolean): ChartSpec {
  const x = r.points.map((p) => p.t / 1000);
  const series = [{ label: r.channel, values: r.points.map((p) => p.avg) }];
  if (r.bucketMs > 0) {
    series.push({ label: 'min', values: r.points.map((p) => p.min) });
    series.push({ label: 'max', values: r.points.map((p) => p.max) });
  }
  return { x, series, unit: r.unit ?? '', live };
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
  events: EventRowView[];
  history: ConfigHistoryRow[];
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
