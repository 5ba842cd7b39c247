import { randomUUID } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { ConcertsService } from '../concerts/concerts.service.js';
import type { Db, Executor, Tx } from '../db/client.js';
import { rowsOf } from '../db/client.js';
import { reservations, seats } from '../db/schema.js';
import { AppError } from '../shared/errors.js';
import { effectiveStatus, holdExpiry, type StoredStatus } from './reservation-rules.js';

export interface HoldRequest {
  concertId: string;
  date: string;
  seatNumber: number;
}

export interface ReservationView {
  reservationId: string;
  concertId: string;
  date: string;
  seatNumber: number;
  price: number;
  status: StoredStatus;
  holdExpiresAt: string;
  createdAt: string;
}

type ReservationRow = typeof reservations.$inferSelect;

export interface ReservationSettings {
  holdTtlMs: number;
  maxHoldsPerUser: number;
}

export class ReservationsService {
  constructor(
    private readonly db: Db,
    private readonly concerts: ConcertsService,
    private readonly settings: ReservationSettings,
  ) {}

  /**
   * Holds a seat: the seat row is taken by one conditional UPDATE (not sold, and no hold or a
   * lapsed one), so whatever the number of concurrent requests or instances, the database
   * lets exactly one win. The user's row lock serialises only that user's own holds, which
   * is what makes the per-user limit exact. All of it is one call of hold_seat (drizzle/0002,
   * and 0003, which refuses a seat already taken before locking anything): one round trip.
   */
  async hold(userId: string, request: HoldRequest, now: number): Promise<ReservationView> {
    const show = await this.concerts.findShow(request.concertId, request.date, now);
    if (request.seatNumber > show.totalSeats) {
      throw new AppError('VALIDATION_FAILED', `Seat numbers of this show run from 1 to ${show.totalSeats}`);
    }
    const at = new Date(now);
    const expiresAt = holdExpiry(now, this.settings.holdTtlMs);
    const id = randomUUID();
    const [row] = rowsOf<{ held: number; price: number | null }>(
      await this.db.execute(sql`
        SELECT out_held AS held, out_price AS price FROM hold_seat(
          ${userId}::uuid, ${request.concertId}::uuid, ${show.id}::uuid, ${show.date}::date,
          ${request.seatNumber}::integer, ${id}::uuid, ${at}::timestamptz, ${expiresAt}::timestamptz,
          ${this.settings.maxHoldsPerUser}::integer)`),
    );
    if (row!.held >= this.settings.maxHoldsPerUser) {
      throw new AppError(
        'HOLD_LIMIT_REACHED',
        `You already hold ${row!.held} unpaid seats for this concert; pay or cancel one first`,
      );
    }
    if (row!.price === null)
      throw new AppError('SEAT_UNAVAILABLE', `Seat ${request.seatNumber} is held or sold; pick another`);
    return {
      reservationId: id,
      concertId: request.concertId,
      date: show.date,
      seatNumber: request.seatNumber,
      price: row!.price,
      status: 'HELD',
      holdExpiresAt: expiresAt.toISOString(),
      createdAt: at.toISOString(),
    };
  }

  async list(userId: string, now: number): Promise<ReservationView[]> {
    const rows = await this.db
      .select()
      .from(reservations)
      .where(eq(reservations.userId, userId))
      .orderBy(desc(reservations.createdAt), desc(reservations.id));
    return rows.map((r) => present(r, now));
  }

  async get(userId: string, reservationId: string, now: number): Promise<ReservationView> {
    const [row] = await this.db
      .select()
      .from(reservations)
      .where(and(eq(reservations.id, reservationId), eq(reservations.userId, userId)));
    if (!row) throw notFound(reservationId);
    return present(row, now);
  }

  /** Cancels a HELD reservation; its seat is free at once. */
  async cancel(userId: string, reservationId: string, now: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      const row = await this.lockOwned(tx, userId, reservationId);
      const status = effectiveStatus(row.status, row.holdExpiresAt, now);
      if (status !== 'HELD') {
        throw new AppError('RESERVATION_NOT_HELD', `The reservation is ${status} and cannot be cancelled`);
      }
      await tx.update(reservations).set({ status: 'CANCELLED' }).where(eq(reservations.id, reservationId));
      await tx
        .update(seats)
        .set({ reservationId: null, holdExpiresAt: null })
        .where(
          and(
            eq(seats.showId, row.showId),
            eq(seats.seatNumber, row.seatNumber),
            eq(seats.reservationId, reservationId),
          ),
        );
    });
  }

  /**
   * Locks a reservation of this user for the rest of the transaction. Another user's
   * reservation is reported as not found, so ids cannot be probed.
   */
  async lockOwned(tx: Tx, userId: string, reservationId: string): Promise<ReservationRow> {
    const [row] = await tx
      .select()
      .from(reservations)
      .where(eq(reservations.id, reservationId))
      .for('update');
    if (!row || row.userId !== userId) throw notFound(reservationId);
    return row;
  }

  /**
   * Marks the reservation CONFIRMED and its seat SOLD, inside the payment's transaction. The
   * seat must still carry this reservation: if another hold took it after a lapse, nothing is
   * sold and the hold is reported as lapsed.
   */
  async confirm(tx: Tx, row: ReservationRow): Promise<void> {
    const sold = rowsOf(
      await tx.execute(sql`
        UPDATE ${seats} SET sold = true, hold_expires_at = NULL
        WHERE show_id = ${row.showId} AND seat_number = ${row.seatNumber}
          AND reservation_id = ${row.id} AND NOT sold
        RETURNING 1`),
    );
    if (sold.length === 0)
      throw new AppError('HOLD_EXPIRED', 'The hold lapsed and the seat went to someone else');
    await tx.update(reservations).set({ status: 'CONFIRMED' }).where(eq(reservations.id, row.id));
  }

  /** How many seats the user still holds (unlapsed) for the concert, seen inside `tx`. */
  async countHeld(tx: Executor, userId: string, concertId: string, now: number): Promise<number> {
    const [row] = rowsOf<{ n: number }>(
      await tx.execute(sql`
        SELECT count(*)::int AS n FROM ${reservations}
        WHERE user_id = ${userId} AND concert_id = ${concertId}
          AND status = 'HELD' AND hold_expires_at > ${new Date(now)}`),
    );
    return row!.n;
  }

  /**
   * Rewrites lapsed holds as EXPIRED so history reads right. Correctness never waits for
   * this: a lapsed hold is already free and already reads as EXPIRED.
   */
  async sweepLapsed(now: number, batch = 1000): Promise<number> {
    const rows = rowsOf(
      await this.db.execute(sql`
        UPDATE ${reservations} SET status = 'EXPIRED'
        WHERE id IN (
          SELECT id FROM ${reservations}
          WHERE status = 'HELD' AND hold_expires_at <= ${new Date(now)}
          LIMIT ${batch} FOR UPDATE SKIP LOCKED)
          AND status = 'HELD'
        RETURNING 1`),
    );
    return rows.length;
  }
}

function notFound(reservationId: string): AppError {
  return new AppError('RESERVATION_NOT_FOUND', `No reservation ${reservationId} of yours`);
}

export function present(row: ReservationRow, now: number): ReservationView {
  return {
    reservationId: row.id,
    concertId: row.concertId,
    date: row.date,
    seatNumber: row.seatNumber,
    price: row.price,
    status: effectiveStatus(row.status, row.holdExpiresAt, now),
    holdExpiresAt: row.holdExpiresAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
  };
}
