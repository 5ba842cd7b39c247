import { ErrorNotice } from '../components/error-notice';
import { recoveryActions } from '../errors';
import { useConcerts } from '../hooks/use-concerts';
import { useI18n } from '../i18n/i18n';
import { href, paths } from '../router';

/** Step 1: pick a concert (GET /api/v1/concerts). */
export function ConcertsPage() {
  const i18n = useI18n();
  const { t, showDate, dateTime } = i18n;
  const concerts = useConcerts(true);

  return (
    <>
      <h1 tabIndex={-1}>{t('concerts.title')}</h1>
      <p class="muted">{t('app.tagline')}</p>
      <ErrorNotice
        error={concerts.error}
        actions={recoveryActions(i18n, concerts.error, { retry: concerts.reload })}
      />
      {!concerts.data && !concerts.error && <p>{t('common.loading')}</p>}
      {concerts.data?.length === 0 && <p>{t('concerts.empty')}</p>}
      <ul class="concert-list">
        {concerts.data?.map((concert) => (
          <li key={concert.concertId} class="card concert-card">
            <h2>{concert.title}</h2>
            <p class="muted">{concert.venue}</p>
            <p>
              {t('concerts.showCount', { count: concert.dates.length })}
              {concert.dates.length > 0 && ` · ${showDate(concert.dates[0]!)}`}
              {concert.dates.length > 1 && ` – ${showDate(concert.dates[concert.dates.length - 1]!)}`}
            </p>
            {concert.saleOpensAt && Date.parse(concert.saleOpensAt) > Date.now() && (
              <p class="sale-opens" data-testid="sale-opens">
                {t('sale.opensAt', { time: dateTime(concert.saleOpensAt) })}
              </p>
            )}
            <a
              class="button primary"
              href={href(paths.concert(concert.concertId))}
              aria-label={t('concerts.openLabel', { title: concert.title })}
            >
              {t('concerts.open')}
            </a>
          </li>
        ))}
      </ul>
    </>
  );
}
