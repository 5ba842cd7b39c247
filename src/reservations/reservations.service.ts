import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { ConcertsService } from '../concerts/concerts.service.js';
import type { SeatChanges } from '../concerts/seat-changes.js';
import type { Db } from '../db/client.js';
import { pgArray, rowsOf } from '../db/client.js';
import { reservations, seats, showSections } from '../db/schema.js';
import { AppError } from '../shared/errors.js';
import { holdExpiry, type ReservationStatus } from './reservation-rules.js';
import { SeatTurns } from './seat-turns.js';

const seatUnavailable = (seats: readonly number[]) =>
  new AppError(
    'SEAT_UNAVAILABLE',
    seats.length === 1
      ? `Seat ${seats[0]} is held or sold; pick another`
      : `Seats ${seats.join(', ')} are held or sold; pick others`,
    { unavailableSeats: seats },
  );

interface Where {
  concertId: string;
  date: string;
}

/** The three forms of POST /reservations (API.md). */
export type HoldRequest = Where &
  (
    | { seatNumber: number }
    | { seatNumbers: number[] }
    | { quantity: number; section?: string; grade?: string }
  );

export interface ReservationView {
  reservationId: string;
  concertId: string;
  date: string;
  seatNumber: number;
  section: string;
  row: number;
  number: number;
  grade: string;
  price: number;
  status: ReservationStatus;
  holdExpiresAt: string;
  createdAt: string;
}

export interface ReservationSettings {
  holdTtlMs: number;
  maxHoldsPerUser: number;
}

/** A row of hold_seats / hold_best_seats (hold-seats.sql). */
interface HeldRow {
  refusal: 'SEAT_UNAVAILABLE' | 'HOLD_LIMIT_REACHED' | 'DATE_CANCELLED' | null;
  held: number;
  unavailable: number[] | null;
  reservation: string;
  seat: number;
  price: number;
  section: string;
  row: number;
  number: number;
  grade: string;
}

const HELD_COLUMNS = {
  refusal: sql<HeldRow['refusal']>`out_refusal`,
  held: sql<number>`out_held`,
  unavailable: sql<number[] | null>`out_unavailable`,
  reservation: sql<string>`out_reservation`,
  seat: sql<number>`out_seat`,
  price: sql<number>`out_price`,
  section: sql<string>`out_section`,
  row: sql<number>`out_row`,
  number: sql<number>`out_number`,
  grade: sql<string>`out_grade`,
};

export class ReservationsService {
  private readonly holdSeats;
  private readonly holdBestSeats;
  /** Holds of one seat in flight here, one attempt at a time (see SeatTurns). */
  private readonly turns = new SeatTurns();

  constructor(
    private readonly db: Db,
    private readonly concerts: ConcertsService,
    private readonly settings: ReservationSettings,
    private readonly seatChanges: SeatChanges,
  ) {
    // Prepared once per connection, as the pgbench ceiling runs them: no parse or plan per hold.
    const p = sql.placeholder;
    this.holdSeats = db
      .select(HELD_COLUMNS)
      .from(
        sql`hold_seats(${p('user')}::uuid, ${p('concert')}::uuid, ${p('show')}::uuid, ${p('date')}::date,
          ${p('seats')}::integer[], ${p('reservations')}::uuid[], ${p('at')}::timestamptz,
          ${p('expires')}::timestamptz, ${p('max')}::integer)`,
      )
      .prepare('hold_seats');
    this.holdBestSeats = db
      .select(HELD_COLUMNS)
      .from(
        sql`hold_best_seats(${p('user')}::uuid, ${p('concert')}::uuid, ${p('show')}::uuid, ${p('date')}::date,
          ${p('quantity')}::integer, ${p('from')}::integer[], ${p('to')}::integer[], ${p('reservations')}::uuid[],
          ${p('at')}::timestamptz, ${p('expires')}::timestamptz, ${p('max')}::integer)`,
      )
      .prepare('hold_best_seats');
  }

  /**
   * Holds seats in one of the three forms, each one call of a function of hold-seats.sql: one
   * round trip, every race (one holder per seat, the per-buyer limit in seats) decided in the
   * database, losers answered at once. Holds of one seat on this instance take turns
   * (SeatTurns), so once one has won, the others waiting here are answered without a call.
   */
  async hold(userId: string, request: HoldRequest, now: number): Promise<ReservationView[]> {
    const show = await this.concerts.findShow(request.concertId, request.date, now);
    const { maxHoldsPerUser } = this.settings;
    const base = {
      user: userId,
      concert: request.concertId,
      show: show.id,
      date: show.date,
      at: new Date(now),
      expires: holdExpiry(now, this.settings.holdTtlMs),
      max: maxHoldsPerUser,
    };
    let rows: HeldRow[] | 'TAKEN';
    let asked: number[] = [];
    if ('quantity' in request) {
      if (request.quantity > maxHoldsPerUser)
        throw new AppError('VALIDATION_FAILED', `At most ${maxHoldsPerUser} seats at once`);
      const { from, to } = show.venue.rangesFor(request);
      rows = await this.holdBestSeats.execute({
        ...base,
        quantity: request.quantity,
        from: pgArray(from),
        to: pgArray(to),
        reservations: pgArray(Array.from({ length: request.quantity }, () => randomUUID())),
      });
    } else {
      asked = 'seatNumber' in request ? [request.seatNumber] : [...request.seatNumbers].sort((a, b) => a - b);
      if (asked.length > maxHoldsPerUser)
        throw new AppError('VALIDATION_FAILED', `At most ${maxHoldsPerUser} seats at once`);
      if (new Set(asked).size !== asked.length)
        throw new AppError('VALIDATION_FAILED', 'Each seat number may appear once');
      const outside = asked.find((n) => n > show.totalSeats);
      if (outside !== undefined)
        throw new AppError('VALIDATION_FAILED', `Seat numbers of this show run from 1 to ${show.totalSeats}`);
      const attempt = () =>
        this.holdSeats.execute({
          ...base,
          seats: pgArray(asked),
          reservations: pgArray(asked.map(() => randomUUID())),
        });
      rows =
        asked.length === 1
          ? await this.turns.take(`${show.id}:${asked[0]}`, attempt, ([row]) =>
              row!.refusal === null
                ? 'HELD'
                : row!.refusal === 'SEAT_UNAVAILABLE'
                  ? 'UNAVAILABLE'
                  : 'UNKNOWN',
            )
          : await attempt();
    }
    if (rows === 'TAKEN') throw seatUnavailable(asked);
    const [first] = rows;
    if (first!.refusal === 'HOLD_LIMIT_REACHED') {
      throw new AppError(
        'HOLD_LIMIT_REACHED',
        `You already hold ${first!.held} unpaid seats for this concert (at most ${maxHoldsPerUser}); pay or cancel first`,
      );
    }
    if (first!.refusal === 'DATE_CANCELLED')
      throw new AppError('DATE_CANCELLED', `The show on ${show.date} is cancelled`);
    if (first!.refusal === 'SEAT_UNAVAILABLE') {
      if ('quantity' in request)
        throw new AppError(
          'SEAT_UNAVAILABLE',
          `No ${request.quantity} seats side by side are free there now`,
        );
      throw seatUnavailable(first!.unavailable ?? asked);
    }
    await this.seatChanges.changed(request.concertId);
    const holdExpiresAt = base.expires.toISOString();
    const createdAt = base.at.toISOString();
    return rows.map((r) => ({
      reservationId: r.reservation,
      concertId: request.concertId,
      date: show.date,
      seatNumber: r.seat,
      section: r.section,
      row: r.row,
      number: r.number,
      grade: r.grade,
      price: r.price,
      status: 'HELD',
      holdExpiresAt,
      createdAt,
    }));
  }

  async list(userId: string, now: number): Promise<ReservationView[]> {
    return rowsOf<ReservationView>(
      await this.db.execute(sql`${viewSelect(now)} WHERE r.user_id = ${userId}
        ORDER BY r.created_at DESC, r.id DESC`),
    );
  }

  async get(userId: string, reservationId: string, now: number): Promise<ReservationView> {
    const [row] = rowsOf<ReservationView>(
      await this.db.execute(sql`${viewSelect(now)} WHERE r.id = ${reservationId} AND r.user_id = ${userId}`),
    );
    if (!row) throw notFound(reservationId);
    return row;
  }

  /**
   * Cancels a live hold of this user, and frees its seat, in one statement: the conditional
   * update (hold_is_live) decides against a payment or a lapse racing it. Only when nothing
   * was cancelled is the reservation read again, to say why.
   */
  async cancel(userId: string, reservationId: string, now: number): Promise<void> {
    const at = new Date(now);
    const [cancelled] = rowsOf<{ concertId: string }>(
      await this.db.execute(sql`
        WITH cancelled AS (
          UPDATE ${reservations} SET status = 'CANCELLED'
          WHERE id = ${reservationId} AND user_id = ${userId}
            AND hold_is_live(status, hold_expires_at, ${at})
          RETURNING id, show_id, seat_number, concert_id),
        freed AS (
          UPDATE ${seats} s SET reservation_id = NULL, hold_expires_at = NULL
          FROM cancelled c
          WHERE s.show_id = c.show_id AND s.seat_number = c.seat_number AND s.reservation_id = c.id
          RETURNING 1)
        SELECT concert_id AS "concertId" FROM cancelled`),
    );
    if (!cancelled) {
      const { status } = await this.get(userId, reservationId, now);
      throw new AppError('RESERVATION_NOT_HELD', `The reservation is ${status} and cannot be cancelled`);
    }
    await this.seatChanges.changed(cancelled.concertId);
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

/** A reservation as the API shows it, its status read at `now` by reservation_status. */
function viewSelect(now: number) {
  return sql`
    SELECT r.id AS "reservationId", r.concert_id AS "concertId", r.date::text AS "date",
           r.seat_number AS "seatNumber", ss.name AS "section", s.row_no::int AS "row",
           s.number_in_row::int AS "number", ss.grade, r.price,
           reservation_status(r.status, r.hold_expires_at, ${new Date(now)}) AS "status",
           to_char(r.hold_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "holdExpiresAt",
           to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt"
    FROM ${reservations} r
    JOIN ${seats} s ON s.show_id = r.show_id AND s.seat_number = r.seat_number
    -- Looked up per seat by its key: as a plain join, a database without statistics on
    -- show_sections hashed the whole table for one buyer's list (test/db/plans.test.ts). LIMIT
    -- keeps the planner from flattening it back into that join.
    CROSS JOIN LATERAL (SELECT x.name, x.grade FROM ${showSections} x
      WHERE x.show_id = s.show_id AND x.section_no = s.section_no LIMIT 1) ss`;
}

function notFound(reservationId: string): AppError {
  return new AppError('RESERVATION_NOT_FOUND', `No reservation ${reservationId} of yours`);
}
