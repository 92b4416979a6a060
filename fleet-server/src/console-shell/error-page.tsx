// The console's error page: what went wrong, where, and the way back.
import { Layout, type PageCtx } from './layout.tsx';

export function ErrorPage(props: { ctx: PageCtx; message: string; where?: string | undefined }) {
  const { t, base } = props.ctx;
  return (
    <Layout ctx={props.ctx} title={t('error.title')}>
      <p class="error" role="alert">
        {props.message}
        {props.where ? <span class="where"> ({props.where})</span> : null}
      </p>
      <p>
        <a href={`${base}/`}>{t('error.back')}</a>
      </p>
    </Layout>
  );
}
