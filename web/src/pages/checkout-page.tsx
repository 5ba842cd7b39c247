import { useState } from 'preact/hooks';
import { ApiError, api, newIdempotencyKey } from '../api';
import { BalancePanel, TOP_UP_INPUT_ID } from '../components/balance-panel';
import { Countdown } from '../components/countdown';
import { ErrorNotice } from '../components/error-notice';
import { PassBar } from '../components/pass-bar';
import { type Action, recoveryActions } from '../errors';
import { useAsync } from '../hooks/use-async';
import { findConcert, useConcerts } from '../hooks/use-concerts';
import { useExpireOnGateError, useGate } from '../hooks/use-gate';
import { useNow } from '../hooks/use-now';
import { useI18n } from '../i18n/i18n';
import { rememberPayment } from '../receipts';
import { href, navigate, paths } from '../router';
import { MAX_HOLDS_PER_USER } from './seats-page';

interface Props {
  concertId: string;
  reservationId: string;
}

/**
 * Steps 6–7: the buyer's held seats of one show, with the time left; top up if needed, then pay
 * for all of them in one payment (or let them go). The page is reached through any one of the
 * holds; the others of the same show are paid with it, as the payment is per show.
 */
export function CheckoutPage({ concertId, reservationId }: Props) {
  const i18n = useI18n();
  const { t, money, showDate } = i18n;
  const gate = useGate(concertId);
  const accessToken = gate.accessToken ?? '';
  const concert = findConcert(useConcerts().data, concertId);
  const now = useNow(1000);
  const reservation = useAsync(
    () => api.getReservation(accessToken, reservationId),
    [accessToken, reservationId],
  );
  const all = useAsync(() => api.listReservations(accessToken), [accessToken, reservationId]);
  const balance = useAsync(() => api.balance(accessToken), [accessToken]);
  const [lapsedByServer, setLapsedByServer] = useState(false);
  const [busy, setBusy] = useState<'pay' | 'cancel' | null>(null);
  const [error, setError] = useState<unknown>(null);
  useExpireOnGateError(concertId, error);

  const first = reservation.data;
  // Every live hold of this buyer on the same show, the one in the address first.
  const held = (all.data ?? [])
    .filter(
      (r) =>
        first &&
        r.concertId === first.concertId &&
        r.date === first.date &&
        r.status === 'HELD' &&
        Date.parse(r.holdExpiresAt) > now,
    )
    .sort((a, b) => a.seatNumber - b.seatNumber);
  const loaded = first !== undefined && all.data !== undefined;
  const lapsed = loaded && first.status === 'HELD' && (held.length === 0 || lapsedByServer);
  const isHeld = loaded && held.length > 0 && !lapsedByServer;
  const total = held.reduce((sum, r) => sum + r.price, 0);
  const endsAt = held.map((r) => r.holdExpiresAt).sort()[0];
  const shortfall = balance.data && isHeld ? Math.max(0, total - balance.data.balance) : 0;

  // Back to the section the seats are in (a one-section show's map is its only page anyway).
  const mapPath = () =>
    first ? paths.section(concertId, first.date, first.section) : paths.concert(concertId);
  const toMap = () => navigate(mapPath());

  const pay = async () => {
    setBusy('pay');
    setError(null);
    try {
      // A new key per click: a retry after a failure (say, a top-up) must be a new attempt.
      const ids = held.map((r) => r.reservationId);
      const payment = await api.pay(gate, ids, newIdempotencyKey());
      rememberPayment(payment);
      navigate(paths.receipt(payment.paymentId));
    } catch (e) {
      setError(e);
      if (e instanceof ApiError && e.code === 'HOLD_EXPIRED') setLapsedByServer(true);
      if (e instanceof ApiError && e.code === 'INSUFFICIENT_BALANCE') void balance.reload();
      if (e instanceof ApiError && e.code === 'RESERVATION_NOT_HELD') {
        void reservation.reload();
        void all.reload();
      }
    } finally {
      setBusy(null);
    }
  };

  /** Let go of some seats (or all): each hold is cancelled; with none left, back to the map. */
  const release = async (ids: string[]) => {
    setBusy('cancel');
    setError(null);
    try {
      await Promise.all(ids.map((id) => api.cancelReservation(accessToken, id)));
      if (ids.length === held.length) toMap();
      else await all.reload();
    } catch (e) {
      setError(e);
      void reservation.reload();
      void all.reload();
    } finally {
      setBusy(null);
    }
  };

  const actionsFor = (e: unknown): Action[] => {
    const code = e instanceof ApiError ? e.code : null;
    if (code === 'HOLD_EXPIRED') return [{ label: t('action.backToMap'), run: toMap }];
    if (code === 'INSUFFICIENT_BALANCE') {
      return [{ label: t('action.topUp'), run: () => document.getElementById(TOP_UP_INPUT_ID)?.focus() }];
    }
    return recoveryActions(i18n, e, { concertId, retry: pay });
  };

  return (
    <>
      <h1 tabIndex={-1}>{t('checkout.title')}</h1>
      <PassBar concertId={concertId} />
      <ErrorNotice
        error={reservation.error ?? all.error}
        actions={recoveryActions(i18n, reservation.error ?? all.error, {
          concertId,
          retry: () => Promise.all([reservation.reload(), all.reload()]).then(() => undefined),
        })}
      />
      {!loaded && !reservation.error && !all.error && <p>{t('common.loading')}</p>}
      {loaded && (
        <section class="card" aria-labelledby="hold-title">
          <h2 id="hold-title">{concert?.title ?? ''}</h2>
          <p class="hold-what">{showDate(first.date)}</p>
          {isHeld && (
            <>
              <h3 class="small muted">{t('checkout.seats')}</h3>
              <ul class="plain-list checkout-seats" data-testid="checkout-seats">
                {held.map((r) => (
                  <li key={r.reservationId} data-seat={r.seatNumber}>
                    <span>
                      {i18n.seat(r)}
                      {` · ${t('venue.grade', { grade: r.grade })}`} · {money(r.price)}
                    </span>
                    {held.length > 1 && (
                      <button
                        type="button"
                        class="quiet small"
                        disabled={busy !== null}
                        aria-label={t('checkout.removeLabel', { seat: i18n.seat(r) })}
                        onClick={() => release([r.reservationId])}
                      >
                        {t('checkout.remove')}
                      </button>
                    )}
                  </li>
                ))}
              </ul>
              <p>
                {t('checkout.total')}: <strong data-testid="price">{money(total)}</strong>
              </p>
            </>
          )}
          {isHeld && endsAt && (
            <Countdown until={endsAt} label={t('checkout.holdEndsIn')} onDone={() => void all.reload()} />
          )}
          {lapsed && (
            <div class="notice notice-warn" role="alert" data-testid="hold-lapsed">
              <p>{t('checkout.lapsed')}</p>
              <button type="button" class="primary" onClick={toMap}>
                {t('action.backToMap')}
              </button>
            </div>
          )}
          {!lapsed && !isHeld && (
            <p class="notice notice-warn" role="status">
              {t('checkout.notHeld', { status: t(`reservation.status.${first.status}`) })}
            </p>
          )}
          {isHeld && (
            <>
              {shortfall > 0 && <p class="muted">{t('checkout.shortfall', { amount: money(shortfall) })}</p>}
              <ErrorNotice error={error} actions={actionsFor(error)} onDismiss={() => setError(null)} />
              <div class="actions">
                <button type="button" class="primary" disabled={busy !== null} onClick={pay}>
                  {busy === 'pay'
                    ? t('checkout.paying')
                    : held.length > 1
                      ? t('checkout.payAll', { count: held.length, price: money(total) })
                      : t('checkout.pay', { price: money(total) })}
                </button>
                <button
                  type="button"
                  class="quiet"
                  disabled={busy !== null}
                  onClick={() => release(held.map((r) => r.reservationId))}
                >
                  {busy === 'cancel' ? t('checkout.cancelling') : t('checkout.cancel')}
                </button>
              </div>
              {held.length < MAX_HOLDS_PER_USER && (
                <p>
                  <a href={href(mapPath())}>{t('checkout.addMore')}</a>
                </p>
              )}
            </>
          )}
        </section>
      )}
      {isHeld && accessToken && (
        <BalancePanel
          accessToken={accessToken}
          balance={balance.data}
          suggestedAmount={shortfall > 0 ? shortfall : undefined}
          onCharged={balance.setData}
        />
      )}
    </>
  );
}
