import { useI18n } from '../i18n/i18n';
import { href, paths } from '../router';

export function NotFoundPage() {
  const { t } = useI18n();
  return (
    <>
      <h1 tabIndex={-1}>{t('notFound.title')}</h1>
      <p>
        <a href={href(paths.concerts())}>{t('action.concerts')}</a>
      </p>
    </>
  );
}
