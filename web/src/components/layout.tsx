import type { ComponentChildren } from 'preact';
import { type Lang, langStore, useI18n } from '../i18n/i18n';
import { href, paths, type Route } from '../router';

interface Props {
  route: Route;
  children: ComponentChildren;
}

export function Layout({ route, children }: Props) {
  const { t, lang } = useI18n();
  const other: Lang = lang === 'ko' ? 'en' : 'ko';
  const current = (names: Route['name'][]) => (names.includes(route.name) ? 'page' : undefined);

  return (
    <>
      <button type="button" class="skip-link" onClick={skipToMain}>
        {t('nav.skip')}
      </button>
      <header class="site-header">
        <a class="brand" href={href(paths.concerts())}>
          {t('app.name')}
        </a>
        <nav aria-label={t('nav.label')}>
          <a
            href={href(paths.concerts())}
            aria-current={current(['concerts', 'concert', 'seats', 'checkout'])}
          >
            {t('nav.concerts')}
          </a>
          <a href={href(paths.me())} aria-current={current(['me', 'receipt'])}>
            {t('nav.me')}
          </a>
          <a href={href(paths.admin())} aria-current={current(['admin'])}>
            {t('nav.admin')}
          </a>
        </nav>
        <button
          type="button"
          class="lang-toggle quiet"
          lang={other}
          aria-label={t('lang.switchLabel')}
          onClick={() => langStore.set(other)}
        >
          {t('lang.switch')}
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

/** A button, not a `#main` link: the hash is the route. */
function skipToMain() {
  document.getElementById('main')?.focus();
}
