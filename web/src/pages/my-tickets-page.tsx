import { useState } from 'preact/hooks';
import { api, type Refund, type Reservation } from '../api';
import { BalancePanel } from '../components/balance-panel';
import { ErrorNotice } from '../components/error-notice';
import { RefundDone, ReturnTicket } from '../components/tickets/return-ticket';
import { TicketList, useSavedTickets } from '../components/tickets/ticket-list';
import { recoveryActions } from '../errors';
import { useAsync } from '../hooks/use-async';
import { findConcert, useConcerts } from '../hooks/use-concerts';
import { type Place, useI18n } from '../i18n/i18n';
import { href, paths } from '../router';
import { type User, userStore } from '../session';
import { useStore } from '../store';

/** "My reservations", payments and balance. */
export function MyTicketsPage() {
  const { t } = useI18n();
  const user = useStore(userStore);
  return (
    <>
      <h1 tabIndex={-1}>{t('me.title')}</h1>
      {user ? (
        <MyTickets user={user} />
      ) : (
        <p>
          {t('me.noUser')} <a href={href(paths.concerts())}>{t('action.concerts')}</a>
        </p>
      )}
    </>
  );
}

function MyTickets({ user }: { user: User }) {
  const i18n = useI18n();
  const { t, money, showDate, dateTime } = i18n;
  const concerts = useConcerts();
  const balance = useAsync(() => api.balance(user.accessToken), [user.accessToken]);
  const reservations = useAsync(() => api.listReservations(user.accessToken), [user.accessToken]);
  const payments = useAsync(() => api.listPayments(user.accessToken), [user.accessToken]);
  // Which payments have a ticket used at the gate (such a payment cannot be returned), from the
  // list the tickets section loads, and a version bumped after a return so it loads them again.
  const tickets = useSavedTickets(user);
  const [ticketsVersion, setTicketsVersion] = useState(0);
  const [refund, setRefund] = useState<Refund | null>(null);
  const onRefunded = (done: Refund) => {
    setRefund(done);
    setTicketsVersion((v) => v + 1);
    void payments.reload();
    void reservations.reload();
    void balance.reload();
  };
  const used = (paymentId: string) =>
    tickets?.tickets.some((ticket) => ticket.paymentId === paymentId && ticket.status === 'USED') ?? false;
  const titleOf = (concertId: string) => findConcert(concerts.data, concertId)?.title ?? '';

  const line = (r: Pick<Reservation, 'concertId' | 'date'>, seats: Place[], amount: number) =>
    t('me.reservationLine', {
      concert: titleOf(r.concertId),
      date: showDate(r.date),
      seat: seats.map((seat) => i18n.seat(seat)).join(', '),
      price: money(amount),
    });

  return (
    <div class="two-columns">
      <div>
        <TicketList user={user} version={ticketsVersion} />
        <section class="card" aria-labelledby="reservations-title">
          <h2 id="reservations-title">{t('me.reservations')}</h2>
          <ErrorNotice
            error={reservations.error}
            actions={recoveryActions(i18n, reservations.error, { retry: reservations.reload })}
          />
          {reservations.data?.length === 0 && <p>{t('me.noReservations')}</p>}
          <ul class="plain-list" data-testid="reservations">
            {reservations.data?.map((r) => {
              const live = r.status === 'HELD' && Date.parse(r.holdExpiresAt) > Date.now();
              const status = r.status === 'HELD' && !live ? 'EXPIRED' : r.status;
              return (
                <li key={r.reservationId} data-status={status}>
                  <span class={`badge badge-${status.toLowerCase()}`}>
                    {t(`reservation.status.${status}`)}
                  </span>{' '}
                  {line(r, [r], r.price)}{' '}
                  {live && (
                    <a href={href(paths.checkout(r.concertId, r.reservationId))}>{t('seats.payNow')}</a>
                  )}
                </li>
              );
            })}
          </ul>
        </section>
        <section class="card" aria-labelledby="payments-title">
          <h2 id="payments-title">{t('me.payments')}</h2>
          <ErrorNotice
            error={payments.error}
            actions={recoveryActions(i18n, payments.error, { retry: payments.reload })}
          />
          {payments.data?.length === 0 && <p>{t('me.noPayments')}</p>}
          {refund && <RefundDone refund={refund} />}
          <ul class="plain-list" data-testid="payments">
            {payments.data?.map((p) => (
              <li key={p.paymentId} data-payment-id={p.paymentId} data-status={p.status}>
                {p.status === 'REFUNDED' && (
                  <>
                    <span class="badge badge-refunded">{t('reservation.status.REFUNDED')}</span>{' '}
                  </>
                )}
                {line(p, p.seats, p.amount)} <span class="muted">· {dateTime(p.paidAt)}</span>{' '}
                <a href={href(paths.receipt(p.paymentId))}>{t('me.receipt')}</a>
                <ReturnTicket
                  accessToken={user.accessToken}
                  payment={p}
                  used={used(p.paymentId)}
                  onRefunded={onRefunded}
                />
              </li>
            ))}
          </ul>
        </section>
      </div>
      <div>
        <ErrorNotice
          error={balance.error}
          actions={recoveryActions(i18n, balance.error, { retry: balance.reload })}
        />
        <BalancePanel accessToken={user.accessToken} balance={balance.data} onCharged={balance.setData} />
      </div>
    </div>
  );
}
