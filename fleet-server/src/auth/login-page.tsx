// The sign-in page.
import { Layout, type PageCtx } from '../console-shell/index.ts';

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
