// Rollouts: start a staged rollout, watch its stages and per-gateway states live, pause, resume, abort.
import { Badge, type PageCtx } from '../console-shell/index.ts';
import type { RolloutService } from './service.ts';

type Rollout = ReturnType<RolloutService['get']>;
type Target = ReturnType<RolloutService['targets']>[number];

function Counts(props: { ctx: PageCtx; counts: Rollout['counts'] }) {
  return <span class="sub">{props.ctx.t('rollouts.counts', props.counts)}</span>;
}

export function RolloutsPage(props: {
  ctx: PageCtx;
  rollouts: Rollout[];
  versions: number[];
  groups: { id: string; name: string }[];
  tags: string[];
  canAct: boolean;
}) {
  const { ctx } = props;
  const groupName = new Map(props.groups.map((g) => [g.id, g.name]));
  const { t, fmt, base } = ctx;
  return (
    <>
      {props.canAct && props.versions.length > 0 ? (
        <form class="card filters" method="post" action={`${base}/rollouts`}>
          <h2 style="width:100%;margin:0">{t('rollouts.start')}</h2>
          <label>
            {t('rollouts.configVersion')}
            <select name="configVersion">
              {props.versions.map((v) => (
                <option value={String(v)}>v{v}</option>
              ))}
            </select>
          </label>
          <label>
            {t('rollouts.target')}
            <select name="target">
              {props.groups.map((g) => (
                <option value={`group:${g.id}`}>
                  {t('rollouts.group')}: {g.name}
                </option>
              ))}
              {props.tags.map((tag) => (
                <option value={`tag:${tag}`}>
                  {t('rollouts.tag')}: {tag}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('rollouts.stages')}
            <input name="stages" value="10,100" pattern="[0-9, ]+" />
          </label>
          <label>
            {t('rollouts.maxFailure')}
            <input name="maxFailureShare" value="0.1" inputmode="decimal" />
          </label>
          <button type="submit">{t('rollouts.submit')}</button>
        </form>
      ) : null}
      <div id="rollout-list" data-live-region="1">
        {props.rollouts.length === 0 ? (
          <p class="muted">{t('rollouts.none')}</p>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>{t('common.created')}</th>
                  <th>{t('rollouts.configVersion')}</th>
                  <th>{t('rollouts.target')}</th>
                  <th>{t('common.state')}</th>
                  <th>{t('common.count')}</th>
                </tr>
              </thead>
              <tbody>
                {props.rollouts.map((r) => (
                  <tr data-rollout={r.id}>
                    <td class="nowrap">
                      <a href={`${base}/rollouts/${encodeURIComponent(r.id)}`}>{fmt.dateTime(r.createdAt)}</a>
                    </td>
                    <td>v{r.configVersion}</td>
                    <td>
                      {r.target.kind === 'group'
                        ? `${t('rollouts.group')}: ${groupName.get(r.target.value) ?? r.target.value}`
                        : `${t('rollouts.tag')}: ${r.target.value}`}
                    </td>
                    <td>
                      <Badge kind={r.state}>{t(`rstate.${r.state}`)}</Badge>
                    </td>
                    <td>
                      <Counts ctx={ctx} counts={r.counts} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </>
  );
}

export function RolloutPage(props: {
  ctx: PageCtx;
  rollout: Rollout;
  targets: (Target & { name: string })[];
  /** The group's name when the target is a group. */
  targetName: string;
  canAct: boolean;
}) {
  const { ctx, rollout: r } = props;
  const { t, fmt, base } = ctx;
  const action = (cmd: 'pause' | 'resume' | 'abort', kind = 'secondary') => (
    <form method="post" action={`${base}/rollouts/${encodeURIComponent(r.id)}/${cmd}`} class="inline">
      <button type="submit" class={kind} data-action={cmd}>
        {t(`rollouts.${cmd}`)}
      </button>
    </form>
  );
  return (
    <div id="rollout" data-live-region="1">
      <p class="summary" data-state={r.state}>
        <span class="live-dot" />
        <Badge kind={r.state}>{t(`rstate.${r.state}`)}</Badge> v{r.configVersion} →{' '}
        {r.target.kind === 'group' ? t('rollouts.group') : t('rollouts.tag')} {props.targetName} ·{' '}
        <Counts ctx={ctx} counts={r.counts} />
      </p>
      {r.stopReason ? <p class="error">{t('rollouts.stopReason', { reason: r.stopReason })}</p> : null}
      {props.canAct ? (
        <p class="no-print">
          {r.state === 'running' ? action('pause') : null} {r.state === 'paused' ? action('resume') : null}{' '}
          {r.state === 'running' || r.state === 'paused' ? action('abort', 'danger') : null}
        </p>
      ) : null}
      <div class="stages">
        {r.stages.map((s) => {
          const total = Object.values(s.counts).reduce((a, b) => a + b, 0);
          return (
            <div class="card stage" data-stage={String(s.index)} data-state={s.state}>
              <b>{t('rollouts.stage', { n: s.index + 1, percent: s.percent })}</b>{' '}
              <Badge kind={s.state}>{t(`rstate.${s.state}`)}</Badge>
              <div class="bar" style={`width:${total ? Math.round((100 * s.counts.applied) / total) : 0}%`} />
              <Counts ctx={ctx} counts={s.counts} />
              <div class="sub">
                {fmt.dateTime(s.startedAt)} – {fmt.dateTime(s.finishedAt)}
              </div>
            </div>
          );
        })}
      </div>
      <h2>{t('rollouts.perGateway')}</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>{t('common.gateway')}</th>
              <th>#</th>
              <th>{t('common.state')}</th>
              <th>{t('gateway.updated')}</th>
              <th>{t('common.details')}</th>
            </tr>
          </thead>
          <tbody>
            {props.targets.map((g) => (
              <tr data-target={g.gatewayId} data-state={g.state}>
                <td>
                  <a href={`${base}/gateways/${encodeURIComponent(g.gatewayId)}`}>{g.name}</a>
                </td>
                <td>{g.stage + 1}</td>
                <td>
                  <Badge kind={g.state}>{t(`rstate.${g.state}`)}</Badge>
                </td>
                <td class="nowrap">{fmt.dateTime(g.updatedAt)}</td>
                <td class="sub">{g.errors ? JSON.stringify(g.errors) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
