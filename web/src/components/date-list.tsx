import { api } from '../api';
import { recoveryActions } from '../errors';
import { useAsync } from '../hooks/use-async';
import { useExpireOnGateError, useGate } from '../hooks/use-gate';
import { useI18n } from '../i18n/i18n';
import { href, paths } from '../router';
import { ErrorNotice } from './error-notice';

/** Dates with seats left (gated GET /concerts/{id}/dates). */
export function DateList({ concertId }: { concertId: string }) {
  const i18n = useI18n();
  const { t, showDate } = i18n;
  const gate = useGate(concertId);
  const dates = useAsync(
    () => api.listDates(gate, concertId),
    [concertId, gate.accessToken, gate.queueToken],
  );
  useExpireOnGateError(concertId, dates.error);

  return (
    <section aria-labelledby="dates-title">
      <h3 id="dates-title">{t('dates.title')}</h3>
      {!dates.data && !dates.error && <p>{t('common.loading')}</p>}
      {dates.data?.length === 0 && <p>{t('dates.none')}</p>}
      <ul class="date-list">
        {dates.data?.map((show) => (
          <li key={show.date}>
            <a
              class="button date-link"
              href={href(paths.seats(concertId, show.date))}
              aria-label={`${t('dates.pick', { date: showDate(show.date) })}, ${t('dates.seatsLeft', {
                available: show.availableSeats,
                total: show.totalSeats,
              })}`}
              data-date={show.date}
            >
              <span>{showDate(show.date)}</span>
              <span class="muted">
                {t('dates.seatsLeft', { available: show.availableSeats, total: show.totalSeats })}
              </span>
            </a>
          </li>
        ))}
      </ul>
      <ErrorNotice
        error={dates.error}
        actions={recoveryActions(i18n, dates.error, { concertId, retry: dates.reload })}
      />
    </section>
  );
}
