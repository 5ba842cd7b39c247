// Over 300 lines on purpose: concerts, their shows and every read rendered from their seats share
// one show cache and one read cache; split apart, each half would need the other's internals.
import { randomUUID } from 'node:crypto';
import { and, asc, between, eq, gte, isNull, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { pgArray, rowsOf } from '../db/client.js';
import { concertSales, concerts, seats, showSections, shows } from '../db/schema.js';
import { AppError } from '../shared/errors.js';
import { todayUtc } from './dates.js';
import { InProcessSeatVersions, type Version } from './seat-changes.js';
import { type Answer, type Rendered, SeatReadCache } from './seat-read-cache.js';
import {
  layOut,
  MAX_SEATS_PER_FULL_MAP,
  rowsOfPlan,
  type SectionPlan,
  simplePlan,
  totalSeats as totalSeatsOf,
  Venue,
} from './seating-plan.js';

export interface ConcertSummary {
  concertId: string;
  title: string;
  venue: string;
  dates: string[];
  /** A scheduled opening (see sale-schedule.ts); null: on sale now. */
  saleOpensAt: string | null;
}

export interface NewConcert {
  title: string;
  venue: string;
  /** The plan every date uses; without it each date is the simple form (`seats`, `price`). */
  seating?: SectionPlan[];
  dates: { date: string; seats?: number; price?: number }[];
}

export interface Show {
  id: string;
  concertId: string;
  date: string;
  totalSeats: number;
  venue: Venue;
}

export type SeatStatus = 'AVAILABLE' | 'HELD' | 'SOLD';

/** A section of a show as the operator sees it. */
export interface SectionReport {
  section: string;
  grade: string;
  price: number;
  totalSeats: number;
  availableSeats: number;
  heldSeats: number;
  soldSeats: number;
}

export const DEFAULT_SEATS_PER_SHOW = 50;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Concerts, their dates (shows) and seats. Concerts, shows and their seating plans never change
 * once created (the API has no way to edit or delete them), so their existence and shape are
 * cached in process. Seat state (the dates list, the sections, the seat maps) is rendered from
 * the database and reused only while it is exact: see SeatReadCache. Whether a seat is free is
 * decided by the database's own rule (seat_is_free, hold-rules.sql) in every query here.
 */
export class ConcertsService {
  private readonly knownConcerts = new Set<string>();
  private readonly showCache = new Map<string, Show>();

  /**
   * The hottest read after the queue's: prepared once (no query building, no re-planning per
   * request), one range of seats (a section, or the whole show), each seat's state computed by
   * the database.
   */
  private readonly seatMapQuery;

  constructor(
    private readonly db: Db,
    private readonly reads = new SeatReadCache(new InProcessSeatVersions()),
  ) {
    const at = sql`${sql.placeholder('now')}::timestamptz`;
    this.seatMapQuery = db
      .select({
        seatNumber: seats.seatNumber,
        price: seats.price,
        sectionNo: seats.sectionNo,
        row: seats.rowNo,
        number: seats.numberInRow,
        status: sql<SeatStatus>`CASE WHEN ${seats.sold} THEN 'SOLD'
          WHEN seat_is_free(${seats.sold}, ${seats.holdExpiresAt}, ${at}) THEN 'AVAILABLE' ELSE 'HELD' END`,
        // When a held seat becomes AVAILABLE again by itself (epoch ms, floored so an answer
        // is never reused at that instant).
        heldUntil: sql<number | null>`CASE WHEN NOT seat_is_free(${seats.sold}, ${seats.holdExpiresAt}, ${at})
          AND NOT ${seats.sold} THEN floor(extract(epoch FROM ${seats.holdExpiresAt}) * 1000)::float8 END`,
      })
      .from(seats)
      .where(
        and(
          eq(seats.showId, sql.placeholder('showId')),
          between(seats.seatNumber, sql.placeholder('from'), sql.placeholder('to')),
        ),
      )
      .orderBy(asc(seats.seatNumber))
      .prepare('seat_map');
  }

  async list(now: number): Promise<ConcertSummary[]> {
    const rows = await this.db
      .select({
        id: concerts.id,
        title: concerts.title,
        venue: concerts.venue,
        date: shows.date,
        saleOpensAt: concertSales.saleOpensAt,
      })
      .from(concerts)
      .leftJoin(
        shows,
        and(eq(shows.concertId, concerts.id), gte(shows.date, todayUtc(now)), isNull(shows.cancelledAt)),
      )
      .leftJoin(concertSales, eq(concertSales.concertId, concerts.id))
      .orderBy(asc(concerts.createdAt), asc(concerts.id), asc(shows.date));
    const byId = new Map<string, ConcertSummary>();
    for (const row of rows) {
      let concert = byId.get(row.id);
      if (!concert) {
        const saleOpensAt = row.saleOpensAt?.toISOString() ?? null;
        concert = { concertId: row.id, title: row.title, venue: row.venue, dates: [], saleOpensAt };
        byId.set(row.id, concert);
      }
      if (row.date) concert.dates.push(row.date);
    }
    return [...byId.values()];
  }

  async exists(concertId: string): Promise<boolean> {
    if (this.knownConcerts.has(concertId)) return true;
    const [row] = await this.db.select({ id: concerts.id }).from(concerts).where(eq(concerts.id, concertId));
    if (row) this.knownConcerts.add(concertId);
    return row !== undefined;
  }

  async assertExists(concertId: string): Promise<void> {
    if (!(await this.exists(concertId))) throw new AppError('CONCERT_NOT_FOUND', `No concert ${concertId}`);
  }

  /** The show of a concert on a date that has not passed, with its plan; 404 for an unknown concert or date. */
  async findShow(concertId: string, date: string, now: number): Promise<Show> {
    const key = `${concertId}/${date}`;
    let show = this.showCache.get(key);
    if (!show) {
      await this.assertExists(concertId);
      const [row] = await this.db
        .select()
        .from(shows)
        .where(and(eq(shows.concertId, concertId), eq(shows.date, date)));
      if (!row) throw new AppError('DATE_NOT_FOUND', `Concert ${concertId} has no show on ${date}`);
      const sections = await this.db
        .select()
        .from(showSections)
        .where(eq(showSections.showId, row.id))
        .orderBy(asc(showSections.sectionNo));
      show = { ...row, venue: new Venue(sections) };
      this.showCache.set(key, show);
    }
    if (show.date < todayUtc(now))
      throw new AppError('DATE_NOT_FOUND', `The show on ${date} has already taken place`);
    return show;
  }

  /**
   * Starts reading the concert's seat-state version for a read that follows (see
   * SeatReadCache.peek); nothing is checked or written yet.
   */
  peekSeatVersion(concertId: string): Promise<Version> {
    return this.reads.peek(concertId);
  }

  /** Dates not in the past with at least one seat free, ascending, as a JSON body. */
  async availableDates(concertId: string, now: number, peeked?: Promise<Version>): Promise<Answer> {
    await this.assertExists(concertId);
    return this.reads.read(concertId, 'dates', now, (at) => this.renderDates(concertId, at), peeked);
  }

  private async renderDates(concertId: string, now: number): Promise<Rendered> {
    const at = new Date(now);
    // Every show, even one with no seat free: it is back in the list when its first hold lapses.
    // Sold seats are left out by seats_unsold_idx; what is left is free or held.
    const rows = rowsOf<{
      date: string;
      totalSeats: number;
      availableSeats: number;
      heldUntil: number | null;
    }>(
      await this.db.execute(sql`
        SELECT s.date::text AS "date", s.total_seats AS "totalSeats",
               count(seat.seat_number) FILTER (WHERE seat_is_free(seat.sold, seat.hold_expires_at, ${at}))::int
                 AS "availableSeats",
               floor(extract(epoch FROM min(seat.hold_expires_at)
                 FILTER (WHERE NOT seat_is_free(seat.sold, seat.hold_expires_at, ${at})))
                 * 1000)::float8 AS "heldUntil"
        FROM ${shows} s LEFT JOIN ${seats} seat ON seat.show_id = s.id AND NOT seat.sold
        WHERE s.concert_id = ${concertId} AND s.date >= ${todayUtc(now)} AND s.cancelled_at IS NULL
        GROUP BY s.id
        ORDER BY s.date`),
    );
    // Tomorrow, today's show leaves the list.
    let validUntil = (Math.floor(now / DAY_MS) + 1) * DAY_MS;
    const dates: { date: string; totalSeats: number; availableSeats: number }[] = [];
    for (const row of rows) {
      if (row.heldUntil !== null) validUntil = Math.min(validUntil, row.heldUntil);
      if (row.availableSeats > 0)
        dates.push({ date: row.date, totalSeats: row.totalSeats, availableSeats: row.availableSeats });
    }
    return { json: JSON.stringify(dates), validUntil };
  }

  /**
   * The seats of a show, ascending, as a JSON body: one section's, or every seat of a show of
   * at most MAX_SEATS_PER_FULL_MAP seats. A seat whose hold has lapsed is AVAILABLE.
   */
  async seatMap(
    concertId: string,
    date: string,
    section: string | undefined,
    now: number,
    peeked?: Promise<Version>,
  ): Promise<Answer> {
    const show = await this.findShow(concertId, date, now);
    const { venue } = show;
    let range = { from: 1, to: venue.totalSeats };
    if (section !== undefined) {
      const s = venue.section(section);
      range = { from: s.firstSeat, to: s.lastSeat };
    } else if (venue.totalSeats > MAX_SEATS_PER_FULL_MAP) {
      throw new AppError(
        'VALIDATION_FAILED',
        `This show has ${venue.totalSeats} seats; ask for one section at a time (?section=)`,
      );
    }
    return this.reads.read(
      concertId,
      `${show.id}/${section ?? ''}`,
      now,
      (at) => this.renderSeatMap(show, range, at),
      peeked,
    );
  }

  private async renderSeatMap(
    show: Show,
    range: { from: number; to: number },
    now: number,
  ): Promise<Rendered> {
    const rows = await this.seatMapQuery.execute({ showId: show.id, now: new Date(now), ...range });
    const { sections } = show.venue;
    let availableSeats = 0;
    let validUntil = Number.POSITIVE_INFINITY;
    const list = rows.map(({ seatNumber, price, sectionNo, row, number, status, heldUntil }) => {
      if (status === 'AVAILABLE') availableSeats++;
      if (heldUntil !== null) validUntil = Math.min(validUntil, heldUntil);
      const { name, grade } = sections[sectionNo]!;
      return { seatNumber, section: name, row, number, grade, price, status };
    });
    return { json: JSON.stringify({ date: show.date, availableSeats, seats: list }), validUntil };
  }

  /**
   * A cancelled date shows no seats (409 DATE_CANCELLED). Asked when an answer is rendered, which
   * a cancellation forces by moving the concert's seat version (RefundsService.cancel).
   */
  private async assertNotCancelled(show: Show): Promise<void> {
    const [row] = await this.db
      .select({ cancelledAt: shows.cancelledAt })
      .from(shows)
      .where(eq(shows.id, show.id));
    if (row?.cancelledAt) throw new AppError('DATE_CANCELLED', `The show on ${show.date} is cancelled`);
  }

  /** The venue at a glance: each section of a show with its seats left, in plan order. */
  async sections(concertId: string, date: string, now: number, peeked?: Promise<Version>): Promise<Answer> {
    const show = await this.findShow(concertId, date, now);
    return this.reads.read(
      concertId,
      `${show.id}/sections`,
      now,
      (at) => this.renderSections(show, at),
      peeked,
    );
  }

  private async renderSections(show: Show, now: number): Promise<Rendered> {
    await this.assertNotCancelled(show);
    const at = new Date(now);
    const counts = rowsOf<{ sectionNo: number; available: number; heldUntil: number | null }>(
      await this.db.execute(sql`
        SELECT seat.section_no AS "sectionNo",
               count(*) FILTER (WHERE seat_is_free(seat.sold, seat.hold_expires_at, ${at}))::int AS "available",
               floor(extract(epoch FROM min(seat.hold_expires_at)
                 FILTER (WHERE NOT seat_is_free(seat.sold, seat.hold_expires_at, ${at})))
                 * 1000)::float8 AS "heldUntil"
        FROM ${seats} seat
        WHERE seat.show_id = ${show.id} AND NOT seat.sold
        GROUP BY seat.section_no`),
    );
    const available = new Map(counts.map((c) => [Number(c.sectionNo), c.available]));
    let validUntil = Number.POSITIVE_INFINITY;
    for (const c of counts) if (c.heldUntil !== null) validUntil = Math.min(validUntil, c.heldUntil);
    const list = show.venue.sections.map((s) => ({
      section: s.name,
      grade: s.grade,
      price: s.price,
      totalSeats: s.lastSeat - s.firstSeat + 1,
      availableSeats: available.get(s.sectionNo) ?? 0,
    }));
    return { json: JSON.stringify(list), validUntil };
  }

  /**
   * Creates a concert, its shows and every seat: one statement per show writes its seats
   * (generated in the database from the plan's rows), so 100,000 seats take one round trip.
   * `alongside` runs in the same transaction (the sale's schedule is created with the concert).
   */
  async create(
    input: NewConcert,
    now: number,
    alongside?: (tx: Tx, concertId: string) => Promise<void>,
    concertId: string = randomUUID(),
  ): Promise<Omit<ConcertSummary, 'saleOpensAt'> & { totalSeats: number }> {
    const dates = [...input.dates].sort((a, b) => a.date.localeCompare(b.date));
    const planOf = (d: NewConcert['dates'][number]) =>
      input.seating ?? simplePlan(d.seats ?? DEFAULT_SEATS_PER_SHOW, d.price!);
    await this.db.transaction(async (tx) => {
      await tx
        .insert(concerts)
        .values({ id: concertId, title: input.title, venue: input.venue, createdAt: new Date(now) });
      for (const d of dates) {
        const showId = randomUUID();
        const sections = layOut(planOf(d));
        await tx
          .insert(shows)
          .values({ id: showId, concertId, date: d.date, totalSeats: sections.at(-1)!.lastSeat });
        await tx.insert(showSections).values(sections.map((s) => ({ showId, ...s })));
        const rows = rowsOfPlan(sections);
        await tx.execute(sql`
          INSERT INTO ${seats} (show_id, seat_number, price, section_no, row_no, number_in_row)
          SELECT ${showId}::uuid, r.first_seat + n - 1, r.price, r.section_no, r.row_no, n
          FROM unnest(${pgArray(rows.sectionNo)}::smallint[], ${pgArray(rows.rowNo)}::smallint[],
                      ${pgArray(rows.firstSeat)}::integer[], ${pgArray(rows.seats)}::integer[],
                      ${pgArray(rows.price)}::integer[])
                 AS r(section_no, row_no, first_seat, seats, price),
               generate_series(1, r.seats) AS n`);
      }
      await alongside?.(tx, concertId);
    });
    // A sale opens right after: plans must not wait for autovacuum to learn these rows exist.
    await this.db.execute(sql`ANALYZE shows, show_sections, seats`);
    const totalSeats = totalSeatsOf(planOf(dates[0]!));
    return { concertId, title: input.title, venue: input.venue, dates: dates.map((d) => d.date), totalSeats };
  }

  async isEmpty(): Promise<boolean> {
    const [row] = await this.db.select({ id: concerts.id }).from(concerts).limit(1);
    return row === undefined;
  }

  /**
   * Seat counts per concert: held (unlapsed) and sold across its shows. One concert, or every
   * concert when none is named (for the metrics).
   */
  async seatStats(now: number, concertId?: string) {
    return rowsOf<{ concertId: string; total: number; held: number; sold: number }>(
      await this.db.execute(sql`
        SELECT s.concert_id AS "concertId", count(*)::int AS total,
               count(*) FILTER (WHERE NOT seat.sold
                 AND NOT seat_is_free(seat.sold, seat.hold_expires_at, ${new Date(now)}))::int AS held,
               count(*) FILTER (WHERE seat.sold)::int AS sold
        FROM ${shows} s JOIN ${seats} seat ON seat.show_id = s.id
        ${concertId === undefined ? sql`` : sql`WHERE s.concert_id = ${concertId}`}
        GROUP BY s.concert_id`),
    );
  }

  /**
   * Per date, per section: seats sold, held and free (the operator's view of a concert).
   */
  async seatingReport(concertId: string, now: number) {
    await this.assertExists(concertId);
    const rows = rowsOf<{
      date: string;
      section: string;
      grade: string;
      price: number;
      total: number;
      available: number;
      held: number;
      sold: number;
    }>(
      await this.db.execute(sql`
        SELECT s.date::text AS "date", ss.name AS "section", ss.grade, ss.price,
               (ss.last_seat - ss.first_seat + 1)::int AS "total",
               count(*) FILTER (WHERE seat_is_free(seat.sold, seat.hold_expires_at, ${new Date(now)}))::int AS "available",
               count(*) FILTER (WHERE NOT seat.sold
                 AND NOT seat_is_free(seat.sold, seat.hold_expires_at, ${new Date(now)}))::int AS "held",
               count(*) FILTER (WHERE seat.sold)::int AS "sold"
        FROM ${shows} s
        JOIN ${showSections} ss ON ss.show_id = s.id
        JOIN ${seats} seat ON seat.show_id = s.id AND seat.seat_number BETWEEN ss.first_seat AND ss.last_seat
        WHERE s.concert_id = ${concertId}
        GROUP BY s.date, ss.section_no, ss.name, ss.grade, ss.price, ss.first_seat, ss.last_seat
        ORDER BY s.date, ss.section_no`),
    );
    const byDate = new Map<string, { date: string; sections: SectionReport[] }>();
    for (const r of rows) {
      let entry = byDate.get(r.date);
      if (!entry) {
        entry = { date: r.date, sections: [] };
        byDate.set(r.date, entry);
      }
      entry.sections.push({
        section: r.section,
        grade: r.grade,
        price: r.price,
        totalSeats: r.total,
        availableSeats: r.available,
        heldSeats: r.held,
        soldSeats: r.sold,
      });
    }
    return [...byDate.values()];
  }
}
