import { randomUUID } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { ConcertsService } from '../concerts/concerts.service.js';
import type { SeatChanges } from '../concerts/seat-changes.js';
import type { Db, Tx } from '../db/client.js';
import { rowsOf } from '../db/client.js';
import { reservations, seats } from '../db/schema.js';
import { AppError } from '../shared/errors.js';
import { effectiveStatus, holdExpiry, type StoredStatus } from './reservation-rules.js';
import { SeatTurns } from './seat-turns.js';

const seatUnavailable = (seatNumber: number) =>
  new AppError('SEAT_UNAVAILABLE', `Seat ${seatNumber} is held or sold; pick another`);

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
    private readonly seatChanges: SeatChanges,
  ) {
    // Prepared once per connection, as the pgbench ceiling runs it: no parse or plan per hold.
    const p = sql.placeholder;
    this.holdSeat = db
      .select({
        refusal: sql<'SEAT_UNAVAILABLE' | 'HOLD_LIMIT_REACHED' | null>`out_refusal`,
        held: sql<number>`out_held`,
        price: sql<number>`out_price`,
      })
      .from(
        sql`hold_seat(${p('user')}::uuid, ${p('concert')}::uuid, ${p('show')}::uuid, ${p('date')}::date,
          ${p('seat')}::integer, ${p('reservation')}::uuid, ${p('at')}::timestamptz, ${p('expires')}::timestamptz,
          ${p('max')}::integer)`,
      )
      .prepare('hold_seat');
  }

  private readonly holdSeat;
  /** Holds of one seat in flight here, one attempt at a time (see SeatTurns). */
  private readonly turns = new SeatTurns();

  /**
   * Holds a seat: one call of hold_seat (hold-seat.sql), one round trip. The database decides
   * every race there (one winner per seat, the per-buyer limit exact) and answers losers at once;
   * holds of one seat on this instance take turns (SeatTurns), so once one has won, the others
   * waiting here are answered without a call of their own.
   */
  async hold(userId: string, request: HoldRequest, now: number): Promise<ReservationView> {
    const show = await this.concerts.findShow(request.concertId, request.date, now);
    if (request.seatNumber > show.totalSeats) {
      throw new AppError('VALIDATION_FAILED', `Seat numbers of this show run from 1 to ${show.totalSeats}`);
    }
    const at = new Date(now);
    const expiresAt = holdExpiry(now, this.settings.holdTtlMs);
    const id = randomUUID();
    const row = await this.turns.take(
      `${show.id}:${request.seatNumber}`,
      async () => {
        const [row] = await this.holdSeat.execute({
          user: userId,
          concert: request.concertId,
          show: show.id,
          date: show.date,
          seat: request.seatNumber,
          reservation: id,
          at,
          expires: expiresAt,
          max: this.settings.maxHoldsPerUser,
        });
        return row!;
      },
      (row) =>
        row.refusal === null ? 'HELD' : row.refusal === 'SEAT_UNAVAILABLE' ? 'UNAVAILABLE' : 'UNKNOWN',
    );
    if (row === 'TAKEN') throw seatUnavailable(request.seatNumber);
    if (row.refusal === 'HOLD_LIMIT_REACHED') {
      throw new AppError(
        'HOLD_LIMIT_REACHED',
        `You already hold ${row.held} unpaid seats for this concert; pay or cancel one first`,
      );
    }
    if (row.refusal === 'SEAT_UNAVAILABLE') throw seatUnavailable(request.seatNumber);
    await this.seatChanges.changed(request.concertId);
    return {
      reservationId: id,
      concertId: request.concertId,
      date: show.date,
      seatNumber: request.seatNumber,
      price: row.price,
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
    const concertId = await this.db.transaction(async (tx) => {
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
      return row.concertId;
    });
    await this.seatChanges.changed(concertId);
  }

  /**
   * Locks a reservation of this user for the rest of the transaction. Another user's
   * reservation is reported as not found, so ids cannot be probed.
   */
  private async lockOwned(tx: Tx, userId: string, reservationId: string): Promise<ReservationRow> {
    const [row] = await tx
      .select()
      .from(reservations)
      .where(eq(reservations.id, reservationId))
      .for('update');
    if (!row || row.userId !== userId) throw notFound(reservationId);
    return row;
  }

  /**
   * Rewrites up to `batch` lapsed holds as EXPIRED so history reads right; returns how many.
   * Correctness never waits for this: a lapsed hold is already free and already reads EXPIRED.
   * Rows another transaction is paying or cancelling are skipped, not waited for.
   */
  async expireLapsed(now: number, batch: number): Promise<number> {
    const [row] = rowsOf<{ n: number }>(
      await this.db.execute(sql`
        WITH swept AS (
          UPDATE ${reservations} SET status = 'EXPIRED'
          WHERE id IN (
            SELECT id FROM ${reservations} r
            WHERE hold_has_lapsed(r.status, r.hold_expires_at, ${new Date(now)})
            LIMIT ${batch} FOR UPDATE SKIP LOCKED)
          RETURNING 1)
        SELECT count(*)::int AS n FROM swept`),
    );
    return row!.n;
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
