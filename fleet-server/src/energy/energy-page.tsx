// Energy dispatch: electricity and water per site or for the region per quarter-hour, day or
// month, the biggest consumers, the night-flow leak indicator and a CSV export.
import { Badge, Chart, type ChartSpec, type PageCtx } from '../console-shell/index.ts';
import { type Consumer, DISPATCH_INTERVALS, type DispatchInterval, type NightFlow } from './dispatch.ts';

export function EnergyPage(props: {
  ctx: PageCtx;
  query: { site: string; interval: DispatchInterval; from: string; to: string };
  sites: { id: string; name: string }[];
  energy: ChartSpec;
  water: ChartSpec;
  totals: { kWh: number; m3: number };
  consumers: (Consumer & { m3: number })[];
  night: NightFlow[];
  csvHref: string;
}) {
  const { ctx, query } = props;
  const { t, fmt, base } = ctx;
  const siteName = new Map(props.sites.map((s) => [s.id, s.name]));
  return (
    <>
      <form class="filters" method="get" action={`${base}/energy`}>
        <label>
          {t('common.site')}
          <select name="site">
            <option value="">{t('energy.region')}</option>
            {props.sites.map((s) => (
              <option value={s.id} selected={s.id === query.site}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('energy.interval')}
          <select name="interval">
            {DISPATCH_INTERVALS.map((i) => (
              <option value={i} selected={i === query.interval}>
                {t(`energy.interval.${i}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('common.from')}
          <input type="date" name="from" value={query.from} />
        </label>
        <label>
          {t('common.to')}
          <input type="date" name="to" value={query.to} />
        </label>
        <button type="submit">{t('common.show')}</button>
        <a href={props.csvHref} download="brana-energy.csv" class="csv" id="csv-export">
          {t('common.csv')}
        </a>
      </form>
      <p class="summary">
        {t('energy.total')}: <b>{fmt.number(props.totals.kWh, 1)} kWh</b> ·{' '}
        <b>{fmt.number(props.totals.m3, 2)} m³</b>
      </p>
      <div class="grid">
        <section>
          <h2>{t('energy.consumption')}</h2>
          {props.energy.x.length ? (
            <Chart id="energy" spec={props.energy} />
          ) : (
            <p class="muted">{t('common.noData')}</p>
          )}
        </section>
        <section>
          <h2>{t('energy.water')}</h2>
          {props.water.x.length ? (
            <Chart id="water" spec={props.water} />
          ) : (
            <p class="muted">{t('common.noData')}</p>
          )}
        </section>
      </div>
      <div class="grid">
        <section>
          <h2>{t('energy.biggest')}</h2>
          <div class="table-wrap">
            <table class="consumers">
              <thead>
                <tr>
                  <th>{t('common.site')}</th>
                  <th class="num">kWh</th>
                  <th class="num">{t('energy.share')}</th>
                  <th class="num">m³</th>
                </tr>
              </thead>
              <tbody>
                {props.consumers.map((c) => (
                  <tr>
                    <td>
                      <a
                        href={`${base}/energy?site=${encodeURIComponent(c.siteId)}&interval=${query.interval}&from=${query.from}&to=${query.to}`}
                      >
                        {siteName.get(c.siteId) ?? c.siteId}
                      </a>
                    </td>
                    <td class="num">{fmt.number(c.amount, 1)}</td>
                    <td class="num">{fmt.number(c.share * 100, 1)} %</td>
                    <td class="num">{fmt.number(c.m3, 2)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
        <section>
          <h2>{t('energy.nightFlow')}</h2>
          <p class="sub">{t('energy.nightFlowHelp')}</p>
          <div class="table-wrap">
            <table class="night">
              <thead>
                <tr>
                  <th>{t('common.site')}</th>
                  <th class="num">{t('energy.nightMin')}</th>
                  <th>{t('common.state')}</th>
                </tr>
              </thead>
              <tbody>
                {props.night.map((n) => (
                  <tr data-site={n.siteId} data-leak={String(n.leak)}>
                    <td>{siteName.get(n.siteId) ?? n.siteId}</td>
                    <td class="num">
                      {n.nights
                        .slice(-7)
                        .map((x) => fmt.number(x.minLPerH, 0))
                        .join(' · ')}
                    </td>
                    <td>
                      {n.leak ? (
                        <Badge kind="failed">{t('energy.leak')}</Badge>
                      ) : (
                        <Badge kind="online">{t('energy.noLeak')}</Badge>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      </div>
    </>
  );
}
