import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, type Cancellation, type Concert } from '../../api';
import { useI18n } from '../../i18n/i18n';
import { AdminErrorNotice } from './admin-error';

/** How often a running cancellation's progress is read again. */
export const CANCEL_POLL_MS = 1000;

/**
 * Cancel a show. Irreversible and refunds every buyer, so the operator types the date to
 * confirm; then the refund job's progress is followed (GET …/cancel) until CANCELLED.
 */
export function CancelDate({ adminKey, concert }: { adminKey: string; concert: Concert }) {
  const { t, showDate } = useI18n();
  const [date, setDate] = useState('');
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // The shows cancelled from this console: the concert list drops them, their progress stays.
  const [cancelled, setCancelled] = useState<Cancellation[]>([]);

  const open = concert.dates.filter((d) => !cancelled.some((c) => c.date === d));
  const chosen = open.includes(date) ? date : '';
  const confirmed = chosen !== '' && typed.trim() === chosen;

  const track = (progress: Cancellation) =>
    setCancelled((list) => [progress, ...list.filter((c) => c.date !== progress.date)]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!confirmed) return;
    setBusy(true);
    setError(null);
    try {
      track(await api.admin.cancelDate(adminKey, concert.concertId, chosen));
      setTyped('');
      setDate('');
    } catch (e) {
      // Cancelled already (another operator, another tab): its progress comes with the refusal.
      const progress =
        e instanceof ApiError && e.code === 'DATE_CANCELLED'
          ? (e.problem as { cancellation?: Cancellation }).cancellation
          : undefined;
      if (progress) track(progress);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const id = `cancel-${concert.concertId}`;
  return (
    <section class="cancel-date" aria-labelledby={id} data-testid="cancel-date">
      <h3 id={id}>{t('cancel.title')}</h3>
      {cancelled.map((progress) => (
        <CancelProgress
          key={progress.date}
          adminKey={adminKey}
          concertId={concert.concertId}
          initial={progress}
        />
      ))}
      {open.length > 0 && (
        <form class="stack-form" onSubmit={submit}>
          <p class="muted small">{t('cancel.help')}</p>
          <label>
            {t('cancel.date')}
            <select value={chosen} onChange={(e) => setDate(e.currentTarget.value)}>
              <option value="">{t('cancel.pick')}</option>
              {open.map((d) => (
                <option key={d} value={d}>
                  {showDate(d)} ({d})
                </option>
              ))}
            </select>
          </label>
          {chosen && (
            <label>
              {t('cancel.typeToConfirm', { date: chosen })}
              <input
                name="confirmDate"
                autoComplete="off"
                placeholder={chosen}
                value={typed}
                onInput={(e) => setTyped(e.currentTarget.value)}
              />
            </label>
          )}
          <p class="actions">
            <button type="submit" class="danger" disabled={!confirmed || busy}>
              {busy ? t('cancel.cancelling') : t('cancel.submit')}
            </button>
          </p>
        </form>
      )}
      <AdminErrorNotice error={error} onDismiss={() => setError(null)} />
    </section>
  );
}

/** One cancelled show: payments refunded so far, read again until the job reports CANCELLED. */
function CancelProgress({
  adminKey,
  concertId,
  initial,
}: {
  adminKey: string;
  concertId: string;
  initial: Cancellation;
}) {
  const { t, showDate } = useI18n();
  const [progress, setProgress] = useState(initial);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (progress.status === 'CANCELLED') return;
    const abort = new AbortController();
    const timer = setTimeout(async () => {
      try {
        setProgress(await api.admin.cancellation(adminKey, concertId, progress.date, abort.signal));
        setError(null);
      } catch (e) {
        if (abort.signal.aborted) return;
        setError(e);
        // Try again on the next tick: the job runs on the server whatever the console sees.
        setProgress((p) => ({ ...p }));
      }
    }, CANCEL_POLL_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [progress, adminKey, concertId]);

  const done = progress.status === 'CANCELLED';
  return (
    <div
      class={`notice ${done ? 'notice-ok' : 'notice-warn'}`}
      role="status"
      data-testid="cancel-progress"
      data-date={progress.date}
      data-status={progress.status}
    >
      <p>
        <strong>{showDate(progress.date)}</strong> ·{' '}
        {done ? t('cancel.done', { payments: progress.payments }) : t('cancel.running')}
      </p>
      <progress
        max={Math.max(progress.payments, 1)}
        value={done ? Math.max(progress.payments, 1) : progress.refunded}
      />
      <p class="small">
        {t('cancel.refunded', { refunded: progress.refunded, payments: progress.payments })}
      </p>
      {error !== null && <AdminErrorNotice error={error} />}
    </div>
  );
}
