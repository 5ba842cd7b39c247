import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Show } from '../concerts/concerts.service.js';
import type { SeatChanges } from '../concerts/seat-changes.js';
import { type Db, rowsOf } from '../db/client.js';
import { type IdempotencyScope, type Outcome, outcomeOf } from '../db/idempotency.js';
import { payments, shows } from '../db/schema.js';
import { AppError } from '../shared/errors.js';

export interface RefundSettings {
  /** REFUND_FEE_PERCENT: the share of a returned payment that is kept. */
  feePercent: number;
  /** REFUND_CUTOFF_HOURS: returns close this long before 00:00 UTC of the show's date. */
  cutoffHours: number;
}

/** A cancelled date and how far its refunds have come (API.md). */
export interface Cancellation {
  date: string;
  status: 'CANCELLING' | 'CANCELLED';
  /** Payments the show had when it was cancelled, and how many of them are refunded so far. */
  payments: number;
  refunded: number;
}

/**
 * Refunds and cancelled shows. Every rule and race is decided in the database (refund-payment.sql,
 * cancel-show.sql); this service calls it, turns refusals into the catalog's errors, and tells the
 * seat readers once seats are free again.
 */
export class RefundsService {
  constructor(
    private readonly db: Db,
    /** Public: GET /refund-policy shows them, so a buyer sees the fee and cut-off before returning. */
    readonly settings: RefundSettings,
    private readonly seatChanges: SeatChanges,
  ) {}

  /** A buyer returns a whole payment: one call of refund_payment, idempotent under its key. */
  async refund(paymentId: string, scope: IdempotencyScope, now: number): Promise<Outcome> {
    const [answer] = rowsOf<{
      refusal: string | null;
      status: number | null;
      body: unknown;
      concertId: string | null;
      replayed: boolean;
    }>(
      await this.db.execute(sql`
        SELECT out_refusal AS refusal, out_status AS status, out_body AS body, out_concert AS "concertId",
               out_replayed AS replayed
        FROM refund_payment(${scope.userId}::uuid, ${paymentId}::uuid, ${randomUUID()}::uuid, ${new Date(now)},
          ${this.settings.feePercent}::integer, ${this.settings.cutoffHours}::integer, ${scope.key ?? null}::text,
          ${scope.fingerprint}::text)`),
    );
    const outcome = await outcomeOf(this.db, scope, now, answer!, (code) => refundRefusal(code, paymentId));
    if (answer!.concertId) await this.seatChanges.changed(answer!.concertId);
    return outcome;
  }

  /**
   * Cancels a show: closed at once (cancel_show), refunded by the job (refundCancelled). A
   * second cancel, from any instance, changes nothing and is told so.
   */
  async cancel(show: Show, now: number): Promise<Cancellation> {
    const [row] = rowsOf<{ first: boolean }>(
      await this.db.execute(sql`SELECT cancel_show(${show.id}::uuid, ${new Date(now)}) AS "first"`),
    );
    await this.seatChanges.changed(show.concertId);
    const progress = await this.cancellation(show);
    if (!row!.first) {
      throw new AppError('DATE_CANCELLED', `The show on ${show.date} was already cancelled`, {
        cancellation: progress,
      });
    }
    return progress;
  }

  /** Where a cancellation stands; 404 NOT_FOUND for a date that was never cancelled. */
  async cancellation(show: Show): Promise<Cancellation> {
    const [row] = rowsOf<{ cancelled: boolean; done: boolean; payments: number; refunded: number }>(
      await this.db.execute(sql`
        SELECT sh.cancelled_at IS NOT NULL AS cancelled, sh.cancel_done_at IS NOT NULL AS done,
               (SELECT count(*)::int FROM ${payments} p WHERE p.show_id = sh.id) AS payments,
               (SELECT count(*)::int FROM ${payments} p WHERE p.show_id = sh.id AND p.status = 'REFUNDED') AS refunded
        FROM ${shows} sh WHERE sh.id = ${show.id}`),
    );
    if (!row?.cancelled) throw new AppError('NOT_FOUND', `The show on ${show.date} is not cancelled`);
    return {
      date: show.date,
      status: row.done ? 'CANCELLED' : 'CANCELLING',
      payments: row.payments,
      refunded: row.refunded,
    };
  }

  /**
   * One step of the refund job: up to `batch` payments of cancelled shows returned in full, in
   * one transaction (refund_cancelled; instances share the work with SKIP LOCKED). Returns how
   * many; 0 costs one indexed look at the shows still being cancelled.
   */
  async refundCancelled(now: number, batch: number): Promise<number> {
    const cancelling = rowsOf<{ concertId: string }>(
      await this.db.execute(sql`
        SELECT DISTINCT concert_id AS "concertId" FROM ${shows}
        WHERE cancelled_at IS NOT NULL AND cancel_done_at IS NULL`),
    );
    if (cancelling.length === 0) return 0;
    const [row] = rowsOf<{ n: number }>(
      await this.db.execute(sql`SELECT refund_cancelled(${batch}::integer, ${new Date(now)}) AS n`),
    );
    for (const { concertId } of cancelling) await this.seatChanges.changed(concertId);
    return row!.n;
  }
}

/** refund_payment's refusal codes as the errors the buyer reads. */
function refundRefusal(code: string, paymentId: string): AppError {
  switch (code) {
    case 'PAYMENT_NOT_FOUND':
      return new AppError('PAYMENT_NOT_FOUND', `No payment ${paymentId} of yours`);
    case 'ALREADY_REFUNDED':
      return new AppError('ALREADY_REFUNDED', 'This payment was already refunded');
    case 'REFUND_CLOSED':
      return new AppError(
        'REFUND_CLOSED',
        'Returns for this show have closed (the cut-off has passed or a ticket was used at the gate)',
      );
    case 'BALANCE_LIMIT_EXCEEDED':
      return new AppError('BALANCE_LIMIT_EXCEEDED', 'The refund would take the balance over its limit');
    default:
      throw new Error(`refund_payment refused with an unknown code ${code}`);
  }
}
