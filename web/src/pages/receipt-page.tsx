import { useState } from 'preact/hooks';
import type { Refund } from '../api';
import { ErrorNotice } from '../components/error-notice';
import { RefundDone, ReturnTicket } from '../components/tickets/return-ticket';
import { useSavedTickets } from '../components/tickets/ticket-list';
import { recoveryActions } from '../errors';
import { useAsync } from '../hooks/use-async';
import { findConcert, useConcerts } from '../hooks/use-concerts';
import { useI18n } from '../i18n/i18n';
import { findPayment, forgetPayment } from '../receipts';
import { href, paths } from '../router';
import { userStore } from '../session';
import { useStore } from '../store';

/** Step 8: the receipt of a payment. */
export function ReceiptPage({ paymentId }: { paymentId: string }) {
  const i18n = useI18n();
  const { t, money, showDate, dateTime } = i18n;
  const user = useStore(userStore);
  const payment = useAsync(
    async () => (user ? findPayment(user.accessToken, paymentId) : null),
    [user?.accessToken, paymentId],
  );
  const concerts = useConcerts();
  const paid = payment.data;
  const [refund, setRefund] = useState<Refund | null>(null);
  // A ticket of it used at the gate, as "my tickets" last saw (the server refuses such a return anyway).
  const saved = useSavedTickets(user ?? { userId: '', accessToken: '' });
  const concert = paid ? findConcert(concerts.data, paid.concertId) : undefined;

  return (
    <>
      <h1 tabIndex={-1}>{t('receipt.title')}</h1>
      <ErrorNotice
        error={payment.error}
        actions={recoveryActions(i18n, payment.error, { retry: payment.reload })}
      />
      {payment.loading && !paid && <p>{t('common.loading')}</p>}
      {!payment.loading && !paid && !payment.error && <p>{t('receipt.notFound')}</p>}
      {paid && (
        <section class="card receipt" aria-labelledby="receipt-thanks" data-testid="receipt">
          {paid.status === 'REFUNDED' ? (
            <p id="receipt-thanks" class="notice notice-warn" data-testid="receipt-refunded">
              {t('refund.refunded')}
            </p>
          ) : (
            <p id="receipt-thanks" class="notice notice-ok" role="status">
              {t('receipt.thanks')}
            </p>
          )}
          <dl class="facts">
            <dt>{t('receipt.concert')}</dt>
            <dd>{concert ? `${concert.title} · ${concert.venue}` : paid.concertId}</dd>
            <dt>{t('receipt.date')}</dt>
            <dd>{showDate(paid.date)}</dd>
            <dt>{paid.seats.length > 1 ? t('receipt.seats') : t('receipt.seat')}</dt>
            <dd>
              <ul class="plain-list" data-testid="receipt-seats">
                {paid.seats.map((seat) => (
                  <li key={seat.seatNumber} data-seat={seat.seatNumber}>
                    {i18n.seat(seat)}
                    {` · ${t('venue.grade', { grade: seat.grade })}`} · {money(seat.price)}
                  </li>
                ))}
              </ul>
            </dd>
            <dt>{t('receipt.amount')}</dt>
            <dd data-testid="receipt-amount">{money(paid.amount)}</dd>
            <dt>{t('receipt.balanceLeft')}</dt>
            <dd>{money(paid.balance)}</dd>
            <dt>{t('receipt.paidAt')}</dt>
            <dd>{dateTime(paid.paidAt)}</dd>
            <dt>{t('receipt.paymentId')}</dt>
            <dd class="mono">{paid.paymentId}</dd>
          </dl>
          {refund && <RefundDone refund={refund} />}
          {user && (
            <ReturnTicket
              accessToken={user.accessToken}
              payment={paid}
              used={saved?.tickets.some((t) => t.paymentId === paid.paymentId && t.status === 'USED')}
              onRefunded={(done) => {
                setRefund(done);
                forgetPayment(paid.paymentId);
                payment.setData({ ...paid, status: 'REFUNDED' });
              }}
            />
          )}
        </section>
      )}
      <p class="actions">
        <a class="button" href={href(paths.me())}>
          {t('action.myTickets')}
        </a>
        <a class="button quiet" href={href(paths.concerts())}>
          {t('action.concerts')}
        </a>
      </p>
    </>
  );
}
