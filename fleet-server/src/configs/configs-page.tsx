// Configuration: versions, the editor with validation errors at their path and line, one version,
// and the diff between two versions.
import { DiffPicker, type PageCtx } from '../console-shell/index.ts';
import type { DiffLine } from './diff.ts';
import type { ConfigSummary, ConfigValidationIssue } from './store.ts';

export interface EditorState {
  text: string;
  basedOn: number | null;
  comment: string;
  parseError?: { message: string; line: number | null } | undefined;
  issues?: (ConfigValidationIssue & { line: number | null })[] | undefined;
  valid?: boolean | undefined;
  saved?: number | undefined;
}

export function ConfigsPage(props: {
  ctx: PageCtx;
  versions: ConfigSummary[];
  editor: EditorState;
  canEdit: boolean;
}) {
  const { ctx, editor } = props;
  const { t, fmt, base } = ctx;
  return (
    <div class="grid">
      <section>
        <h2>{t('configs.versions')}</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>{t('common.version')}</th>
                <th>{t('common.created')}</th>
                <th>{t('common.createdBy')}</th>
                <th>{t('common.comment')}</th>
              </tr>
            </thead>
            <tbody>
              {props.versions.map((v) => (
                <tr>
                  <td>
                    <a href={`${base}/configs/${v.version}`}>v{v.version}</a>
                    <div class="sub">{v.hash.slice(0, 12)}</div>
                  </td>
                  <td class="nowrap">{fmt.dateTime(v.createdAt)}</td>
                  <td>{v.createdBy}</td>
                  <td>{v.comment ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <DiffPicker ctx={ctx} versions={props.versions.map((v) => v.version)} />
      </section>
      <section>
        <h2>{t('configs.editor')}</h2>
        {editor.basedOn !== null ? (
          <p class="sub">{t('configs.basedOn', { version: editor.basedOn })}</p>
        ) : null}
        {editor.saved !== undefined ? (
          <p class="ok" role="status">
            {t('configs.saved', { version: editor.saved })}
          </p>
        ) : null}
        {editor.valid ? (
          <p class="ok" role="status">
            {t('configs.valid')}
          </p>
        ) : null}
        {editor.parseError ? (
          <div class="error" role="alert">
            <ul class="issues">
              <li data-line={editor.parseError.line ?? undefined}>
                {editor.parseError.line !== null ? (
                  <b>{t('configs.line', { line: editor.parseError.line })}: </b>
                ) : null}
                {t('configs.parseError', { message: editor.parseError.message })}
              </li>
            </ul>
          </div>
        ) : null}
        {editor.issues && editor.issues.length > 0 ? (
          <div class="error" role="alert">
            <p>{t('configs.invalid', { count: editor.issues.length })}</p>
            <ul class="issues">
              {editor.issues.map((i) => (
                <li data-line={i.line ?? undefined} data-path={i.path}>
                  <code>{i.path || '(root)'}</code>
                  {i.line !== null ? <span class="sub"> {t('configs.line', { line: i.line })}</span> : null}:{' '}
                  {i.message}
                  <div class="sub">{t('configs.fix', { fix: i.fix })}</div>
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        <form method="post" action={`${base}/configs`}>
          <input type="hidden" name="basedOn" value={editor.basedOn === null ? '' : String(editor.basedOn)} />
          <textarea class="editor" name="text" spellcheck={false}>
            {editor.text}
          </textarea>
          <label>
            {t('common.comment')}
            <input name="comment" value={editor.comment} maxlength={1000} />
          </label>
          <p>
            <button type="submit" name="action" value="validate" class="secondary">
              {t('configs.validate')}
            </button>{' '}
            {props.canEdit ? (
              <button type="submit" name="action" value="save">
                {t('configs.save')}
              </button>
            ) : null}
          </p>
        </form>
      </section>
    </div>
  );
}

export function ConfigVersionPage(props: {
  ctx: PageCtx;
  summary: ConfigSummary;
  text: string;
  versions: number[];
}) {
  const { ctx, summary } = props;
  const { fmt } = ctx;
  return (
    <>
      <p class="summary">
        {fmt.dateTime(summary.createdAt)} · {summary.createdBy} · sha256 {summary.hash} ·{' '}
        {summary.comment ?? ''}
      </p>
      <DiffPicker ctx={ctx} versions={props.versions} b={summary.version} />
      <pre class="diff">{props.text}</pre>
    </>
  );
}

export function DiffPage(props: {
  ctx: PageCtx;
  a: number;
  b: number;
  lines: DiffLine[];
  versions: number[];
}) {
  const { ctx } = props;
  const changed = props.lines.some((l) => l.op !== 'same');
  return (
    <>
      <DiffPicker ctx={ctx} versions={props.versions} a={props.a} b={props.b} />
      {changed ? null : <p class="ok">{ctx.t('diff.same')}</p>}
      <pre class="diff">
        {props.lines.map((l) => (
          <span class={l.op}>
            {l.op === 'add' ? '+ ' : l.op === 'del' ? '- ' : '  '}
            {l.text}
          </span>
        ))}
      </pre>
    </>
  );
}
