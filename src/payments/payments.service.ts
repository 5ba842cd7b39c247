import { randomUUID } from 'node:crypto';
import { desc, eq, sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../db/client.js';
import { payments } from '../db/schema.js';
import type { QueueTokenClaims } from '../queue/queue-token.js';
import { effectiveStatus } from '../reservations/reservation-rules.js';
import type { ReservationsService } from '../reservations/reservations.service.js';
import { AppError } from '../shared/errors.js';
import { type Outcome, runIdempotent, storedOutcome } from '../shared/idempotency.js';
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
    const fast = await this.payInOneStep(userId, queue, reservationId, now, key, fingerprint);
    if (fast) return fast;
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
      const payment: PaymentRow = {
        id: randomUUID(),
        reservationId,
        userId,
        concertId: reservation.concertId,
        date: reservation.date,
        seatNumber: reservation.seatNumber,
        amount: reservation.price,
        balanceAfter: balance,
        paidAt: new Date(now),
      };
      await tx.insert(payments).values(payment);
      doneWithConcert = (await this.reservations.countHeld(tx, userId, reservation.concertId, now)) === 0;
      return { status: 201, body: present(payment) };
    });
    return { ...outcome, doneWithConcert };
  }

  /**
   * The payment that goes through, in one round trip: pay_reservation (drizzle/0002) runs the
   * same statements in the same order as the path below, in one transaction. Anything else —
   * a refusal, or a key already claimed — makes it roll back and answer null, and the path
   * below decides and records it, so refusals and replays behave exactly as before.
   */
  private async payInOneStep(
    userId: string,
    queue: QueueTokenClaims,
    reservationId: string,
    now: number,
    key: string | undefined,
    fingerprint: string,
  ): Promise<PaymentOutcome | null> {
    const at = new Date(now);
    let rows: { body: PaymentView; held: number }[];
    try {
      rows = rowsOf(
        await this.db.execute(sql`
          SELECT out_body AS body, out_held AS held FROM pay_reservation(
            ${userId}::uuid, ${queue.concertId}::uuid, ${reservationId}::uuid, ${randomUUID()}::uuid,
            ${randomUUID()}::uuid, ${at}::timestamptz, ${at.toISOString()}::text, ${key ?? null}::text,
            ${fingerprint}::text)`),
      );
    } catch (error) {
      if (isRefusal(error)) return null;
      throw error;
    }
    const [row] = rows;
    return {
      status: 201,
      body: row!.body,
      problem: false,
      replayed: false,
      doneWithConcert: row!.held === 0,
    };
  }

  /**
   * Whether the user still holds (unlapsed) seats of the concert. A buyer who holds none is
   * done with it, and their queue slot goes to the next in line.
   */
  async holdsNothingElse(userId: string, concertId: string, now: number): Promise<boolean> {
    return (await this.reservations.countHeld(this.db, userId, concertId, now)) === 0;
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
    return rows.map(present);
  }
}

/** pay_reservation's way of saying "not in one step" (it raises, rolling everything back). */
function isRefusal(error: unknown): boolean {
  for (let e = error as { message?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.message === 'string' && e.message.includes('boxoffice:refused')) return true;
  }
  return false;
}

type PaymentRow = typeof payments.$inferSelect;

function present(row: PaymentRow): PaymentView {
  return {
    paymentId: row.id,
    reservationId: row.reservationId,
    concertId: row.concertId,
    date: row.date,
    seatNumber: row.seatNumber,
    amount: row.amount,
    balance: row.balanceAfter,
    paidAt: row.paidAt.toISOString(),
  };
}
