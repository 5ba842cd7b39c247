import type { FastifyBaseLogger } from 'fastify';
import type { SeatChanges } from '../concerts/seat-changes.js';
import type { Db } from '../db/client.js';
import { type IdempotencyScope, type Outcome, outcomeOf, storedOutcome } from '../db/idempotency.js';
import type { Metrics } from '../ops/metrics.js';
import type { QueueService } from '../queue/queue.service.js';
import type { QueueTokenClaims } from '../queue/queue-token.js';
import { AppError } from '../shared/errors.js';
import {
  type PaymentAnswer,
  type PaymentsService,
  type PaymentView,
  paymentRefusal,
} from './payments.service.js';

export interface PaymentRequest {
  userId: string;
  /** One or several held reservations of one show. */
  reservationIds: string[];
  /** The Queue-Token header. */
  queueToken: string | undefined;
  idempotencyKey: string | undefined;
  /** The request's identity for the key (see idempotency.ts). */
  fingerprint: string;
}

/**
 * Giving the queue slot back after a payment is retried this often, this far apart (doubling, at
 * most SLOT_RELEASE_MAX_WAIT_MS): about 28 s in all, longer than a Redis that hangs for a while
 * (issue 19: frozen 12 s) or restarts, and at most a second late once it answers again.
 */
const SLOT_RELEASE_RETRIES = 30;
const SLOT_RELEASE_FIRST_RETRY_MS = 200;
const SLOT_RELEASE_MAX_WAIT_MS = 1_000;

/**
 * Paying for held seats of one show (POST /api/v1/payments), start to end:
 *
 * 1. The gate: the buyer's queue token for the concert, ACTIVE. A token whose ticket was lost
 *    with the queue store's data (`lost`) still passes, for this one thing: paying the buyer's own
 *    live holds of that concert (pay_reservations checks exactly that; anything else is refused as
 *    the gate would have refused it).
 * 2. The payment: one call of pay_reservations (pay-reservations.sql), which decides everything in
 *    one transaction. A refusal is recorded under the Idempotency-Key like a success.
 * 3. After the commit: seat readers are told, the sale is counted, and a buyer holding nothing
 *    else for the concert gives the queue slot back. That last step can fail (Redis away) but
 *    never turns the committed payment into an error: it is retried in the background, and at
 *    worst the slot comes back when the token's active window ends (the store's own expiry).
 *
 * What happens when a payment is retried with the same Idempotency-Key: the first answer comes
 * back, the payment happens once. While the token still passes the gate, pay_reservations finds
 * the key (waiting for a concurrent first attempt to commit) and returns the stored answer; once
 * the purchase has expired the token, the gate refuses the retry and the stored answer is read
 * here instead. A retry of a 201 also finishes giving the slot back if that never happened.
 * Without a key, a second attempt is a new request (RESERVATION_NOT_HELD, or the gate's refusal).
 */
export class PayForReservation {
  /** Slot releases waiting to be retried, each with what retrying it does. */
  private readonly retries = new Map<NodeJS.Timeout, () => void>();

  constructor(
    private readonly db: Db,
    private readonly payments: PaymentsService,
    private readonly queue: QueueService,
    private readonly seatChanges: SeatChanges,
    private readonly metrics: Pick<Metrics, 'recordSale'>,
    private readonly log: FastifyBaseLogger,
  ) {}

  async pay(request: PaymentRequest, now: number): Promise<Outcome> {
    const scope: IdempotencyScope = {
      userId: request.userId,
      key: request.idempotencyKey,
      fingerprint: request.fingerprint,
    };
    let claims: QueueTokenClaims & { lost?: true };
    try {
      claims = await this.queue.admit(request.queueToken, request.userId, undefined, { acceptLost: true });
    } catch (refused) {
      const stored = await storedOutcome(this.db, scope);
      if (stored) return stored;
      throw refused;
    }

    const answer = await this.payments.pay(
      request.userId,
      claims.concertId,
      request.reservationIds,
      now,
      scope.key,
      scope.fingerprint,
    );
    if (claims.lost && answer.refusal !== null && !answer.replayed) {
      // Not the buyer's own live hold of that concert: the gate's refusal stands.
      throw new AppError('QUEUE_TOKEN_EXPIRED', 'Your turn has ended or you left the line; join again');
    }
    const outcome = await outcomeOf(this.db, scope, now, answer, paymentRefusal);
    if (outcome.status === 201) await this.afterPayment(outcome, answer, claims);
    return outcome;
  }

  /** Stops retrying slot releases (the app is closing; the store's expiry is the backstop). */
  close(): void {
    for (const timer of this.retries.keys()) clearTimeout(timer);
    this.retries.clear();
  }

  /**
   * Retries every waiting slot release now: Redis answers again (redis/connection.ts emits
   * 'responsive'), and a buyer who paid while it hung should read EXPIRED at once, not up to a
   * retry interval later.
   */
  retryNow(): void {
    const due = [...this.retries];
    this.retries.clear();
    for (const [timer, retry] of due) {
      clearTimeout(timer);
      retry();
    }
  }

  private async afterPayment(
    outcome: Outcome,
    answer: PaymentAnswer,
    claims: QueueTokenClaims & { lost?: true },
  ) {
    const paid = outcome.body as PaymentView;
    if (!outcome.replayed) {
      await this.seatChanges.changed(paid.concertId);
      this.metrics.recordSale(paid);
    }
    // A lost ticket has no slot to give back.
    if (answer.held === 0 && !claims.lost) await this.giveBackSlot(claims, 0);
  }

  /** Never throws: the payment has committed, whatever happens to its slot. */
  private async giveBackSlot(claims: QueueTokenClaims, attempt: number): Promise<void> {
    try {
      await this.queue.release(claims);
    } catch (error) {
      if (attempt >= SLOT_RELEASE_RETRIES) {
        this.log.warn(
          { err: error, concertId: claims.concertId, ticket: claims.ticket },
          'queue slot not given back after a payment; it returns when the active window ends',
        );
        return;
      }
      this.log.warn({ err: error, attempt }, 'giving the queue slot back after a payment failed; retrying');
      const retry = () => void this.giveBackSlot(claims, attempt + 1);
      const timer = setTimeout(
        () => {
          this.retries.delete(timer);
          retry();
        },
        Math.min(SLOT_RELEASE_FIRST_RETRY_MS * 2 ** attempt, SLOT_RELEASE_MAX_WAIT_MS),
      );
      timer.unref();
      this.retries.set(timer, retry);
    }
  }
}
