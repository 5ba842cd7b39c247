import { useEffect, useState } from 'preact/hooks';
import { Countdown } from '../components/countdown';
import { CreateUserForm } from '../components/create-user-form';
import { DateList } from '../components/date-list';
import { ErrorNotice } from '../components/error-notice';
import { recoveryActions } from '../errors';
import { findConcert, useConcerts } from '../hooks/use-concerts';
import { useNow } from '../hooks/use-now';
import { type QueueView, useQueue } from '../hooks/use-queue';
import { useI18n } from '../i18n/i18n';
import { prepareProof, proofState } from '../proof-of-work';
import { joinQueue, leaveQueue } from '../queue';
import { forgetUser, userStore } from '../session';
import { useStore } from '../store';

/** Steps 2–4: create me, join the line, wait with a live position, then pick a date. */
export function WaitingRoomPage({ concertId }: { concertId: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const user = useStore(userStore);
  const concerts = useConcerts();
  const concert = findConcert(concerts.data, concertId);
  // While the buyer reads the page: a line that asks for a proof of work gets one at once.
  useEffect(() => prepareProof(), [concertId]);

  return (
    <>
      <h1 tabIndex={-1}>{concert?.title ?? t('queue.title')}</h1>
      {concert && <p class="muted">{concert.venue}</p>}
      <ErrorNotice
        error={concerts.error}
        actions={recoveryActions(i18n, concerts.error, { retry: concerts.reload })}
      />
      {user ? (
        <>
          <p class="muted user-line">
            {t('user.signedInAs', { name: user.name ?? t('user.anonymous') })}{' '}
            <button type="button" class="link" onClick={forgetUser}>
              {t('user.forget')}
            </button>
          </p>
          <Queue concertId={concertId} saleOpensAt={concert?.saleOpensAt ?? null} />
        </>
      ) : (
        <CreateUserForm />
      )}
    </>
  );
}

function Queue({ concertId, saleOpensAt }: { concertId: string; saleOpensAt: string | null }) {
  const i18n = useI18n();
  const { t, dateTime } = i18n;
  const view = useQueue(concertId);
  const now = useNow(1000);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const checking = useStore(proofState);

  const act = (action: () => Promise<unknown>) => async () => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const join = act(() => joinQueue(concertId));
  const leave = act(() => leaveQueue(concertId));
  const state = view.status?.status;
  const shownError = error ?? view.error;

  return (
    <section class="card queue" aria-labelledby="queue-title" data-queue-state={state ?? 'NONE'}>
      <h2 id="queue-title">{t('queue.title')}</h2>
      {(!state || state === 'EXPIRED') && (
        <>
          {saleOpensAt && Date.parse(saleOpensAt) > now && (
            <div class="sale-countdown" data-testid="sale-countdown">
              <p>{t('sale.opensAt', { time: dateTime(saleOpensAt) })}</p>
              <Countdown until={saleOpensAt} label={t('sale.countdown')} />
            </div>
          )}
          <p>{state === 'EXPIRED' ? t('queue.expired') : t('queue.joinHelp')}</p>
          <button type="button" class="primary" disabled={busy} onClick={join}>
            {busy
              ? checking
                ? t('pow.checking')
                : t('queue.joining')
              : state === 'EXPIRED'
                ? t('queue.joinAgain')
                : t('queue.join')}
          </button>
        </>
      )}
      {state === 'WAITING' && view.status?.saleOpensAt && view.status.position === null ? (
        <PreQueue view={view} opensAt={view.status.saleOpensAt} busy={busy} onLeave={leave} />
      ) : (
        state === 'WAITING' && <Waiting view={view} busy={busy} onLeave={leave} />
      )}
      {state === 'ACTIVE' && view.status?.activeUntil && (
        <>
          <p class="notice notice-ok" role="status">
            {t('queue.active')}
          </p>
          <Countdown until={view.status.activeUntil} label={t('queue.timeLeft')} />
          <DateList concertId={concertId} />
          <button type="button" class="quiet" disabled={busy} onClick={leave}>
            {t('queue.giveUp')}
          </button>
        </>
      )}
      <ErrorNotice
        error={shownError}
        actions={recoveryActions(i18n, shownError, { concertId, retry: state ? undefined : join })}
      />
    </section>
  );
}

function Waiting({ view, busy, onLeave }: { view: QueueView; busy: boolean; onLeave: () => void }) {
  const { t, duration } = useI18n();
  const position = view.status?.position ?? null;
  const wait = view.status?.estimatedWaitSeconds ?? null;
  const waitText = wait === null ? null : duration(wait);

  return (
    <>
      <p class="position-label">{t('queue.positionLabel')}</p>
      <p class="position" data-testid="queue-position" data-position={position ?? ''}>
        {position === null ? '…' : t('queue.position', { position })}
      </p>
      {position === 1 && <p class="next-up">{t('queue.next')}</p>}
      <p data-testid="queue-eta">
        {waitText === null ? t('queue.etaUnknown') : t('queue.eta', { wait: waitText })}
      </p>
      <p class="visually-hidden" aria-live="polite" aria-atomic="true">
        {position !== null && t('queue.announce', { position, wait: waitText ?? '–' })}
      </p>
      <p class="muted">{t('queue.keepOpen')}</p>
      <p class="muted small live-mode" data-mode={view.mode ?? ''}>
        <span class="dot" aria-hidden="true" />{' '}
        {view.mode === 'polling' ? t('queue.polling') : t('queue.live')}
      </p>
      <button type="button" class="quiet" disabled={busy} onClick={onLeave}>
        {t('queue.leave')}
      </button>
    </>
  );
}

/** The pre-queue of a scheduled sale: no place yet, a countdown to the draw. */
function PreQueue({
  view,
  opensAt,
  busy,
  onLeave,
}: {
  view: QueueView;
  opensAt: string;
  busy: boolean;
  onLeave: () => void;
}) {
  const { t } = useI18n();
  const now = useNow(1000);
  return (
    <div class="prequeue" data-testid="prequeue">
      <p class="notice notice-ok" role="status">
        {t('sale.prequeue')}
      </p>
      {Date.parse(opensAt) > now ? (
        <Countdown until={opensAt} label={t('sale.countdown')} />
      ) : (
        <p aria-live="polite">{t('sale.drawing')}</p>
      )}
      <p class="muted">{t('sale.prequeueFair')}</p>
      {view.status?.ticket !== undefined && (
        <p class="muted small" data-testid="draw-ticket">
          {t('sale.ticket', { ticket: view.status.ticket })}
        </p>
      )}
      <p class="muted">{t('queue.keepOpen')}</p>
      <button type="button" class="quiet" disabled={busy} onClick={onLeave}>
        {t('queue.leave')}
      </button>
    </div>
  );
}
