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
import { useI18n } from '../i18n/i18n';
import { rememberPayment } from '../receipts';
import { navigate, paths } from '../router';

interface Props {
  concertId: string;
  reservationId: string;
}

/** Steps 6–7: a held seat with its countdown; top up if needed, then pay (or let it go). */
export function CheckoutPage({ concertId, reservationId }: Props) {
  const i18n = useI18n();
  const { t, money, showDate } = i18n;
  const gate = useGate(concertId);
  const accessToken = gate.accessToken ?? '';
  const concert = findConcert(useConcerts().data, concertId);
  const reservation = useAsync(
    () => api.getReservation(accessToken, reservationId),
    [accessToken, reservationId],
  );
  const balance = useAsync(() => api.balance(accessToken), [accessToken]);
  const [lapsed, setLapsed] = useState(false);
  const [busy, setBusy] = useState<'pay' | 'cancel' | null>(null);
  const [error, setError] = useState<unknown>(null);
  useExpireOnGateError(concertId, error);

  const held = reservation.data;
  const price = held?.price ?? 0;
  const shortfall = balance.data && held ? Math.max(0, price - balance.data.balance) : 0;
  const toMap = () => navigate(held ? paths.seats(concertId, held.date) : paths.concert(concertId));

  const pay = async () => {
    setBusy('pay');
    setError(null);
    try {
      // A new key per click: a retry after a failure (say, a top-up) must be a new attempt.
      const payment = await api.pay(gate, reservationId, newIdempotencyKey());
      rememberPayment(payment);
      navigate(paths.receipt(payment.paymentId));
    } catch (e) {
      setError(e);
      if (e instanceof ApiError && e.code === 'HOLD_EXPIRED') setLapsed(true);
      if (e instanceof ApiError && e.code === 'INSUFFICIENT_BALANCE') void balance.reload();
      if (e instanceof ApiError && e.code === 'RESERVATION_NOT_HELD') void reservation.reload();
    } finally {
      setBusy(null);
    }
  };

  const cancel = async () => {
    setBusy('cancel');
    setError(null);
    try {
      await api.cancelReservation(accessToken, reservationId);
      toMap();
    } catch (e) {
      setError(e);
      void reservation.reload();
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

  const isHeld = held?.status === 'HELD' && !lapsed;

  return (
    <>
      <h1 tabIndex={-1}>{t('checkout.title')}</h1>
      <PassBar concertId={concertId} />
      <ErrorNotice
        error={reservation.error}
        actions={recoveryActions(i18n, reservation.error, { concertId, retry: reservation.reload })}
      />
      {!held && !reservation.error && <p>{t('common.loading')}</p>}
      {held && (
        <section class="card" aria-labelledby="hold-title">
          <h2 id="hold-title">{concert?.title ?? ''}</h2>
          <p class="hold-what">{t('checkout.what', { date: showDate(held.date), n: held.seatNumber })}</p>
          <p>
            {t('checkout.price')}: <strong data-testid="price">{money(held.price)}</strong>
          </p>
          {isHeld && (
            <Countdown
              until={held.holdExpiresAt}
              label={t('checkout.holdEndsIn')}
              onDone={() => setLapsed(true)}
            />
          )}
          {lapsed && (
            <div class="notice notice-warn" role="alert" data-testid="hold-lapsed">
              <p>{t('checkout.lapsed')}</p>
              <button type="button" class="primary" onClick={toMap}>
                {t('action.backToMap')}
              </button>
            </div>
          )}
          {!lapsed && held.status !== 'HELD' && (
            <p class="notice notice-warn" role="status">
              {t('checkout.notHeld', { status: t(`reservation.status.${held.status}`) })}
            </p>
          )}
          {isHeld && (
            <>
              {shortfall > 0 && <p class="muted">{t('checkout.shortfall', { amount: money(shortfall) })}</p>}
              <ErrorNotice error={error} actions={actionsFor(error)} onDismiss={() => setError(null)} />
              <div class="actions">
                <button type="button" class="primary" disabled={busy !== null} onClick={pay}>
                  {busy === 'pay' ? t('checkout.paying') : t('checkout.pay', { price: money(held.price) })}
                </button>
                <button type="button" class="quiet" disabled={busy !== null} onClick={cancel}>
                  {busy === 'cancel' ? t('checkout.cancelling') : t('checkout.cancel')}
                </button>
              </div>
            </>
          )}
        </section>
      )}
      {held && isHeld && accessToken && (
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
