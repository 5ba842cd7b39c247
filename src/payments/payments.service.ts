import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { type Db, pgArray, rowsOf } from '../db/client.js';
import type { WriteAnswer } from '../db/idempotency.js';
import { payments, reservations } from '../db/schema.js';
import { AppError } from '../shared/errors.js';

/** A seat a payment bought, as the receipt shows it. */
export interface PaidSeat {
  reservationId: string;
  seatNumber: number;
  section: string;
  row: number;
  number: number;
  grade: string;
  price: number;
}

export interface PaymentView {
  paymentId: string;
  concertId: string;
  date: string;
  status: 'PAID' | 'REFUNDED';
  amount: number;
  balance: number;
  paidAt: string;
  reservationIds: string[];
  seats: PaidSeat[];
  /** Present when the payment covers one reservation (API.md). */
  reservationId?: string;
  seatNumber?: number;
}

export interface PaymentAnswer extends WriteAnswer {
  /** The buyer's live holds left for the concert; at 0 the buyer is done with it. */
  held: number | null;
}

/** Payments as the database keeps them: pay_reservations (pay-reservations.sql) and the list. */
export class PaymentsService {
  /** Prepared once per connection, as the pgbench ceiling runs it: no parse or plan per payment. */
  private readonly payReservations;

  constructor(private readonly db: Db) {
    const p = sql.placeholder;
    this.payReservations = db
      .select({
        refusal: sql<string | null>`out_refusal`,
        status: sql<number | null>`out_status`,
        body: sql<unknown>`out_body`,
        held: sql<number | null>`out_held`,
        replayed: sql<boolean>`out_replayed`,
      })
      .from(
        sql`pay_reservations(${p('user')}::uuid, ${p('concert')}::uuid, ${p('reservations')}::uuid[],
          ${p('payment')}::uuid, ${p('transaction')}::uuid, ${p('at')}::timestamptz, ${p('key')}::text,
          ${p('fingerprint')}::text)`,
      )
      .prepare('pay_reservations');
  }

  /** One call of pay_reservations: one round trip, every rule and race decided in the database. */
  async pay(
    userId: string,
    concertId: string,
    reservationIds: readonly string[],
    now: number,
    key: string | undefined,
    fingerprint: string,
  ): Promise<PaymentAnswer> {
    const [answer] = await this.payReservations.execute({
      user: userId,
      concert: concertId,
      reservations: pgArray(reservationIds),
      payment: randomUUID(),
      transaction: randomUUID(),
      at: new Date(now),
      key: key ?? null,
      fingerprint,
    });
    return answer!;
  }

  /** The user's payments, newest first, each with the seats it bought (seat_json, pay-reservations.sql). */
  async list(userId: string): Promise<PaymentView[]> {
    const rows = rowsOf<PaymentView>(
      await this.db.execute(sql`
        SELECT p.id AS "paymentId", p.concert_id AS "concertId", p.date::text AS "date", p.status,
               p.amount, p.balance_after AS "balance",
               to_char(p.paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "paidAt",
               (SELECT jsonb_agg(seat_json(r.id, r.show_id, r.seat_number, r.price) ORDER BY r.seat_number)
                  FROM ${reservations} r WHERE r.payment_id = p.id) AS "seats"
        FROM ${payments} p
        WHERE p.user_id = ${userId}
        ORDER BY p.paid_at DESC, p.id DESC`),
    );
    return rows.map((row) => {
      const view = { ...row, reservationIds: row.seats.map((s) => s.reservationId) };
      const [only] = row.seats;
      return row.seats.length === 1
        ? { ...view, reservationId: only!.reservationId, seatNumber: only!.seatNumber }
        : view;
    });
  }
}

/** pay_reservations' refusal codes as the errors the buyer reads. */
export function paymentRefusal(code: string, facts: unknown): AppError {
  const { status, price, reservationId } = (facts ?? {}) as {
    status?: string;
    price?: number;
    reservationId?: string;
  };
  switch (code) {
    case 'RESERVATION_NOT_FOUND':
      return new AppError('RESERVATION_NOT_FOUND', `No reservation ${reservationId} of yours`);
    case 'VALIDATION_FAILED':
      return new AppError(
        'VALIDATION_FAILED',
        'One payment covers reservations of one show: same concert, same date',
      );
    case 'QUEUE_TOKEN_FORBIDDEN':
      return new AppError(
        'QUEUE_TOKEN_FORBIDDEN',
        'The queue token is for another concert than these reservations',
      );
    case 'DATE_CANCELLED':
      return new AppError('DATE_CANCELLED', 'The show on this date is cancelled; nothing was charged');
    case 'HOLD_EXPIRED':
      return new AppError('HOLD_EXPIRED', 'A hold lapsed; pick the seats again');
    case 'RESERVATION_NOT_HELD':
      return new AppError('RESERVATION_NOT_HELD', `A reservation is already ${status}`);
    case 'INSUFFICIENT_BALANCE':
      return new AppError('INSUFFICIENT_BALANCE', `The balance does not cover ${price} won; charge it first`);
    default:
      throw new Error(`pay_reservations refused with an unknown code ${code}`);
  }
}
