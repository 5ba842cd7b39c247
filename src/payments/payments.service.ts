import { randomUUID } from 'node:crypto';
import { desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { WriteAnswer } from '../db/idempotency.js';
import { payments } from '../db/schema.js';
import { AppError } from '../shared/errors.js';

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

export interface PaymentAnswer extends WriteAnswer {
  /** The buyer's live holds left for the concert; at 0 the buyer is done with it. */
  held: number | null;
}

/** Payments as the database keeps them: pay_reservation (pay-reservation.sql) and the list. */
export class PaymentsService {
  /** Prepared once per connection, as the pgbench ceiling runs it: no parse or plan per payment. */
  private readonly payReservation;

  constructor(private readonly db: Db) {
    const p = sql.placeholder;
    this.payReservation = db
      .select({
        refusal: sql<string | null>`out_refusal`,
        status: sql<number | null>`out_status`,
        body: sql<unknown>`out_body`,
        held: sql<number | null>`out_held`,
        replayed: sql<boolean>`out_replayed`,
      })
      .from(
        sql`pay_reservation(${p('user')}::uuid, ${p('concert')}::uuid, ${p('reservation')}::uuid,
          ${p('payment')}::uuid, ${p('transaction')}::uuid, ${p('at')}::timestamptz, ${p('key')}::text,
          ${p('fingerprint')}::text)`,
      )
      .prepare('pay_reservation');
  }

  /** One call of pay_reservation: one round trip, every rule and race decided in the database. */
  async pay(
    userId: string,
    concertId: string,
    reservationId: string,
    now: number,
    key: string | undefined,
    fingerprint: string,
  ): Promise<PaymentAnswer> {
    const [answer] = await this.payReservation.execute({
      user: userId,
      concert: concertId,
      reservation: reservationId,
      payment: randomUUID(),
      transaction: randomUUID(),
      at: new Date(now),
      key: key ?? null,
      fingerprint,
    });
    return answer!;
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

/** pay_reservation's refusal codes as the errors the buyer reads. */
export function paymentRefusal(code: string, facts: unknown, reservationId: string): AppError {
  const { status, price } = (facts ?? {}) as { status?: string; price?: number };
  switch (code) {
    case 'RESERVATION_NOT_FOUND':
      return new AppError('RESERVATION_NOT_FOUND', `No reservation ${reservationId} of yours`);
    case 'QUEUE_TOKEN_FORBIDDEN':
      return new AppError(
        'QUEUE_TOKEN_FORBIDDEN',
        'The queue token is for another concert than this reservation',
      );
    case 'HOLD_EXPIRED':
      return new AppError('HOLD_EXPIRED', 'The hold lapsed; pick the seat again');
    case 'RESERVATION_NOT_HELD':
      return new AppError('RESERVATION_NOT_HELD', `The reservation is already ${status}`);
    case 'INSUFFICIENT_BALANCE':
      return new AppError('INSUFFICIENT_BALANCE', `The balance does not cover ${price} won; charge it first`);
    default:
      throw new Error(`pay_reservation refused with an unknown code ${code}`);
  }
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
