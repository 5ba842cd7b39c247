import { useState } from 'preact/hooks';
import { ApiError, api } from '../../api';
import { useAsync } from '../../hooks/use-async';
import { useI18n } from '../../i18n/i18n';
import { AdminErrorNotice } from './admin-error';

export const WEBHOOKS_REFRESH_MS = 10_000;

/** Events the service gave up sending (after 24 h of retries), each with a button to send it again. */
export function FailedWebhooks({ adminKey }: { adminKey: string }) {
  const { t, dateTime } = useI18n();
  const failed = useAsync((signal) => api.admin.webhooks(adminKey, 'failed', signal), [adminKey], {
    everyMs: WEBHOOKS_REFRESH_MS,
    stopOn: (e) => e instanceof ApiError && (e.code === 'UNAUTHENTICATED' || e.code === 'NOT_FOUND'),
  });
  const [retried, setRetried] = useState<string[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  // A server without the endpoint: no such section.
  if (failed.error instanceof ApiError && failed.error.code === 'NOT_FOUND') return null;

  const retry = async (id: string) => {
    setBusy(id);
    setError(null);
    try {
      await api.admin.retryWebhook(adminKey, id);
      setRetried((ids) => [...ids, id]);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const events = failed.data?.events ?? [];
  return (
    <section class="card" aria-labelledby="webhooks-title" data-testid="failed-webhooks">
      <h2 id="webhooks-title">{t('webhooks.title')}</h2>
      <AdminErrorNotice error={failed.error ?? error} onDismiss={error ? () => setError(null) : undefined} />
      {failed.data && events.length === 0 && <p class="muted">{t('webhooks.none')}</p>}
      {events.length > 0 && (
        <div class="table-scroll">
          <table class="seating-table">
            <thead>
              <tr>
                <th scope="col">{t('webhooks.type')}</th>
                <th scope="col">{t('webhooks.createdAt')}</th>
                <th scope="col" class="num">
                  {t('webhooks.attempts')}
                </th>
                <th scope="col">{t('webhooks.lastError')}</th>
                <th scope="col">
                  <span class="visually-hidden">{t('webhooks.retry')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => (
                <tr key={event.id} data-event-id={event.id}>
                  <td class="mono">{event.type}</td>
                  <td>{dateTime(event.createdAt)}</td>
                  <td class="num">{event.attempts}</td>
                  <td class="small">{event.lastError ?? '–'}</td>
                  <td>
                    {retried.includes(event.id) ? (
                      <span class="badge badge-confirmed">{t('webhooks.retried')}</span>
                    ) : (
                      <button type="button" disabled={busy !== null} onClick={() => retry(event.id)}>
                        {t('webhooks.retry')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
