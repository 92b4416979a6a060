// Intersections: for one site and day, each preemption (role, approach, request to contact, how it
// ended), rejections by reason, faults, and the day as a timeline per approach.
import { EventsTable, type PageCtx } from '../console-shell/index.ts';
import type { IntersectionDay } from './preemptions.ts';
import type { EventRow } from './store.ts';

export function IntersectionsPage(props: {
  ctx: PageCtx;
  sites: { id: string; name: string }[];
  site: string | null;
  day: string;
  dayStart: number;
  dayEnd: number;
  data: IntersectionDay | null;
  faults: EventRow[];
}) {
  const { ctx, data } = props;
  const { t, fmt, base } = ctx;
  if (props.sites.length === 0) return <p class="muted">{t('intersections.none')}</p>;
  const span = props.dayEnd - props.dayStart;
  const pct = (ms: number) =>
    `${Math.min(100, Math.max(0, ((ms - props.dayStart) / span) * 100)).toFixed(3)}%`;
  const approaches = data ? [...new Set(data.preemptions.map((p) => p.approach))].sort() : [];
  const now = Date.now();
  return (
    <>
      <form class="filters" method="get" action={`${base}/intersections`}>
        <label>
          {t('common.site')}
          <select name="site">
            {props.sites.map((s) => (
              <option value={s.id} selected={s.id === props.site}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('intersections.day')}
          <input type="date" name="day" value={props.day} />
        </label>
        <button type="submit">{t('common.show')}</button>
      </form>
      <div id="intersection-day" data-live-region="1">
        {data ? (
          <>
            <h2>{t('intersections.timeline')}</h2>
            {approaches.map((a) => (
              <div>
                <span class="sub">
                  {t('intersections.approach')} {a}
                </span>
                <div class="timeline">
                  {data.preemptions
                    .filter((p) => p.approach === a)
                    .map((p) => {
                      const end = p.releasedAt ?? Math.min(now, props.dayEnd);
                      const width = `${Math.max(0.2, ((end - p.assertedAt) / span) * 100).toFixed(3)}%`;
                      return (
                        <span
                          class={`slot r-${p.role}`}
                          style={`left:${pct(p.assertedAt)};width:${width}`}
                          title={`${p.role} ${fmt.time(p.assertedAt)}`}
                        />
                      );
                    })}
                  {props.faults.map((f) => (
                    <span class="mark" style={`left:${pct(f.ts)}`} title={`${f.kind} ${fmt.time(f.ts)}`} />
                  ))}
                </div>
              </div>
            ))}
            <div class="timeline-scale">
              {[0, 3, 6, 9, 12, 15, 18, 21, 24].map((h) => (
                <span>{String(h).padStart(2, '0')}:00</span>
              ))}
            </div>
            <h2>{t('intersections.preemptions')}</h2>
            {data.preemptions.length === 0 ? (
              <p class="muted">{t('common.noData')}</p>
            ) : (
              <div class="table-wrap">
                <table class="preemptions">
                  <thead>
                    <tr>
                      <th>{t('common.time')}</th>
                      <th>{t('intersections.role')}</th>
                      <th>{t('intersections.approach')}</th>
                      <th class="num">{t('intersections.requestToContact')}</th>
                      <th class="num">{t('intersections.held')}</th>
                      <th>{t('intersections.ended')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {[...data.preemptions].reverse().map((p) => (
                      <tr data-preemption={p.role}>
                        <td class="nowrap">{fmt.time(p.assertedAt)}</td>
                        <td>
                          {p.role}
                          {p.vehicle ? <div class="sub">{p.vehicle}</div> : null}
                        </td>
                        <td>{p.approach}</td>
                        <td class="num">
                          {p.requestToContactMs === null ? '–' : `${fmt.number(p.requestToContactMs, 0)} ms`}
                        </td>
                        <td class="num">
                          {p.releasedAt === null
                            ? '–'
                            : `${fmt.number((p.releasedAt - p.assertedAt) / 1000, 1)} s`}
                        </td>
                        <td>{p.ended ?? t('intersections.stillActive')}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            <div class="grid">
              <section>
                <h2>{t('intersections.rejections')}</h2>
                {data.rejections.length === 0 ? (
                  <p class="muted">{t('common.noData')}</p>
                ) : (
                  <table class="rejections">
                    <thead>
                      <tr>
                        <th>{t('intersections.reason')}</th>
                        <th class="num">{t('common.count')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.rejections.map((r) => (
                        <tr>
                          <td>{r.reason}</td>
                          <td class="num">{r.count}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
              <section>
                <h2>{t('intersections.faults')}</h2>
                <EventsTable ctx={ctx} events={props.faults} />
              </section>
            </div>
          </>
        ) : null}
      </div>
    </>
  );
}
