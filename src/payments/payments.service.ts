import { randomUUID } from 'node:crypto';
import { desc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { payments } from '../db/schema.js';
import { AppError } from '../http/errors.js';
import { type Outcome, runIdempotent, storedOutcome } from '../http/idempotency.js';
import type { QueueTokenClaims } from '../queue/queue-token.js';
import { effectiveStatus } from '../reservations/reservation-rules.js';
import type { ReservationsService } from '../reservations/reservations.service.js';
import type { WalletService } from '../wallet/wallet.service.js';

export interface PaymentView {
  paymentId: string;
  reservationId: string;
  concertId: string;
  date: string;
  seatNumber: number;
  amount: number;
  balance: number;
  paidAt: string;
}

export interface PaymentOutcome extends Outcome {
  /** The buyer holds nothing else for the concert: the queue slot can go to the next in line. */
  doneWithConcert: boolean;
}

export class PaymentsService {
  constructor(
    private readonly db: Db,
    private readonly reservations: ReservationsService,
    private readonly wallet: WalletService,
  ) {}

  /**
   * Pays for a held seat in one transaction: lock the reservation, check owner, status and
   * expiry, sell the seat (only if it still carries this hold), debit the balance with its
   * ledger entry, write the payment. Any refusal rolls all of it back.
   */
  async pay(
    userId: string,
    queue: QueueTokenClaims,
    reservationId: string,
    now: number,
    key: string | undefined,
    fingerprint: string,
  ): Promise<PaymentOutcome> {
    let doneWithConcert = false;
    const outcome = await runIdempotent(this.db, { userId, key, fingerprint }, now, async (tx) => {
      const reservation = await this.reservations.lockOwned(tx, userId, reservationId);
      if (reservation.concertId !== queue.concertId) {
        throw new AppError(
          'QUEUE_TOKEN_FORBIDDEN',
          'The queue token is for another concert than this reservation',
        );
      }
      const status = effectiveStatus(reservation.status, reservation.holdExpiresAt, now);
      if (status === 'EXPIRED') throw new AppError('HOLD_EXPIRED', 'The hold lapsed; pick the seat again');
      if (status !== 'HELD')
        throw new AppError('RESERVATION_NOT_HELD', `The reservation is already ${status}`);

      await this.reservations.confirm(tx, reservation);
      const { balance } = await this.wallet.debit(tx, userId, reservation.price, now);
      const payment: PaymentView = {
        paymentId: randomUUID(),
        reservationId,
        concertId: reservation.concertId,
        date: reservation.date,
        seatNumber: reservation.seatNumber,
        amount: reservation.price,
        balance,
        paidAt: new Date(now).toISOString(),
      };
      await tx.insert(payments).values({
        id: payment.paymentId,
        reservationId,
        userId,
        concertId: payment.concertId,
        date: payment.date,
        seatNumber: payment.seatNumber,
        amount: payment.amount,
        balanceAfter: balance,
        paidAt: new Date(now),
      });
      doneWithConcert = (await this.reservations.countHeld(tx, userId, reservation.concertId, now)) === 0;
      return { status: 201, body: payment };
    });
    return { ...outcome, doneWithConcert };
  }

  /** The stored answer to an earlier payment request with this key, if any. */
  replay(userId: string, key: string | undefined, fingerprint: string): Promise<Outcome | null> {
    return storedOutcome(this.db, { userId, key, fingerprint });
  }

  async list(userId: string): Promise<PaymentView[]> {
    const rows = await this.db
      .select()
      .from(payments)
      .where(eq(payments.userId, userId))
      .orderBy(desc(payments.paidAt), desc(payments.id));
    return rows.map((r) => ({
      paymentId: r.id,
      reservationId: r.reservationId,
      concertId: r.concertId,
      date: r.date,
      seatNumber: r.seatNumber,
      amount: r.amount,
      balance: r.balanceAfter,
      paidAt: r.paidAt.toISOString(),
    }));
  }
}
