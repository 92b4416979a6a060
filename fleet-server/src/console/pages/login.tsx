// Sign-in and error pages.
import { Layout, type PageCtx } from '../layout.tsx';

export function LoginPage(props: {
  ctx: PageCtx;
  next: string;
  error?: string | undefined;
  username?: string;
}) {
  const { t, base } = props.ctx;
  return (
    <Layout ctx={props.ctx} title={t('login.title')}>
      <form class="card login" method="post" action={`${base}/login`}>
        {props.error ? (
          <p class="error" role="alert">
            {props.error}
          </p>
        ) : null}
        <input type="hidden" name="next" value={props.next} />
        <label>
          {t('login.username')}
          <input name="username" autocomplete="username" required value={props.username ?? ''} />
        </label>
        <label>
          {t('login.password')}
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <button type="submit">{t('login.submit')}</button>
      </form>
    </Layout>
  );
}

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
