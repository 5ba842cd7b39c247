import { randomUUID } from 'node:crypto';
import { and, asc, eq, gte, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { rowsOf } from '../db/client.js';
import { concertSales, concerts, seats, shows } from '../db/schema.js';
import { AppError } from '../shared/errors.js';
import { todayUtc } from './dates.js';
import { InProcessSeatVersions, type Version } from './seat-changes.js';
import { type Rendered, SeatReadCache } from './seat-read-cache.js';

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
  dates: { date: string; seats?: number; price: number }[];
}

export interface Show {
  id: string;
  concertId: string;
  date: string;
  totalSeats: number;
}

export type SeatStatus = 'AVAILABLE' | 'HELD' | 'SOLD';

export const DEFAULT_SEATS_PER_SHOW = 50;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Concerts, their dates (shows) and seats. Concerts and shows never change once created (the
 * API has no way to edit or delete them), so their existence and shape are cached in process.
 * Seat state (the dates list, the seat maps) is rendered from the database and reused only
 * while it is exact: see SeatReadCache.
 */
export class ConcertsService {
  private readonly knownConcerts = new Set<string>();
  private readonly showCache = new Map<string, Show>();

  /**
   * The hottest read after the queue's: prepared once (no query building, no re-planning per
   * request), and each seat's state computed by the database with the same rule as
   * availableDates, so no timestamp is parsed per row.
   */
  private readonly seatMapQuery;

  constructor(
    private readonly db: Db,
    private readonly reads = new SeatReadCache(new InProcessSeatVersions()),
  ) {
    this.seatMapQuery = db
      .select({
        seatNumber: seats.seatNumber,
        price: seats.price,
        status: sql<SeatStatus>`CASE WHEN ${seats.sold} THEN 'SOLD'
          WHEN ${seats.holdExpiresAt} > ${sql.placeholder('now')}::timestamptz THEN 'HELD'
          ELSE 'AVAILABLE' END`,
        // When a held seat becomes AVAILABLE again by itself (epoch ms, floored so an answer
        // is never reused at that instant).
        heldUntil: sql<number | null>`CASE WHEN NOT ${seats.sold}
          AND ${seats.holdExpiresAt} > ${sql.placeholder('now')}::timestamptz
          THEN floor(extract(epoch FROM ${seats.holdExpiresAt}) * 1000)::float8 END`,
      })
      .from(seats)
      .where(eq(seats.showId, sql.placeholder('showId')))
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
      .leftJoin(shows, and(eq(shows.concertId, concerts.id), gte(shows.date, todayUtc(now))))
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

  /** The show of a concert on a date that has not passed; 404 for an unknown concert or date. */
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
      show = row;
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
  async availableDates(concertId: string, now: number, peeked?: Promise<Version>): Promise<string> {
    await this.assertExists(concertId);
    return this.reads.read(concertId, 'dates', now, (at) => this.renderDates(concertId, at), peeked);
  }

  private async renderDates(concertId: string, now: number): Promise<Rendered> {
    const at = new Date(now);
    // Every show, even one with no seat free: it is back in the list when its first hold lapses.
    const rows = rowsOf<{
      date: string;
      totalSeats: number;
      availableSeats: number;
      heldUntil: number | null;
    }>(
      await this.db.execute(sql`
        SELECT s.date::text AS "date", s.total_seats AS "totalSeats",
               count(*) FILTER (WHERE NOT seat.sold
                 AND (seat.hold_expires_at IS NULL OR seat.hold_expires_at <= ${at}))::int AS "availableSeats",
               floor(extract(epoch FROM min(seat.hold_expires_at) FILTER (WHERE NOT seat.sold
                 AND seat.hold_expires_at > ${at})) * 1000)::float8 AS "heldUntil"
        FROM ${shows} s JOIN ${seats} seat ON seat.show_id = s.id
        WHERE s.concert_id = ${concertId} AND s.date >= ${todayUtc(now)}
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

  /** Every seat of a show, ascending, as a JSON body; a seat whose hold has lapsed is AVAILABLE. */
  async seatMap(concertId: string, date: string, now: number, peeked?: Promise<Version>): Promise<string> {
    const show = await this.findShow(concertId, date, now);
    return this.reads.read(concertId, show.id, now, (at) => this.renderSeatMap(show, at), peeked);
  }

  private async renderSeatMap(show: Show, now: number): Promise<Rendered> {
    const rows = await this.seatMapQuery.execute({ showId: show.id, now: new Date(now) });
    let availableSeats = 0;
    let validUntil = Number.POSITIVE_INFINITY;
    const list = rows.map(({ seatNumber, price, status, heldUntil }) => {
      if (status === 'AVAILABLE') availableSeats++;
      if (heldUntil !== null) validUntil = Math.min(validUntil, heldUntil);
      return { seatNumber, price, status };
    });
    return { json: JSON.stringify({ date: show.date, availableSeats, seats: list }), validUntil };
  }

  /** `alongside` runs in the same transaction (the sale's schedule is created with the concert). */
  async create(
    input: NewConcert,
    now: number,
    alongside?: (tx: Tx, concertId: string) => Promise<void>,
  ): Promise<Omit<ConcertSummary, 'saleOpensAt'>> {
    const concertId = randomUUID();
    const dates = [...input.dates].sort((a, b) => a.date.localeCompare(b.date));
    await this.db.transaction(async (tx) => {
      await tx
        .insert(concerts)
        .values({ id: concertId, title: input.title, venue: input.venue, createdAt: new Date(now) });
      for (const d of dates) {
        const showId = randomUUID();
        const count = d.seats ?? DEFAULT_SEATS_PER_SHOW;
        await tx.insert(shows).values({ id: showId, concertId, date: d.date, totalSeats: count });
        await tx
          .insert(seats)
          .values(Array.from({ length: count }, (_, i) => ({ showId, seatNumber: i + 1, price: d.price })));
      }
      await alongside?.(tx, concertId);
    });
    // A sale opens right after: plans must not wait for autovacuum to learn these rows exist.
    await this.db.execute(sql`ANALYZE shows, seats`);
    return { concertId, title: input.title, venue: input.venue, dates: dates.map((d) => d.date) };
  }

  /** Creates a concert with a given id and per-seat prices (the demo seed). */
  async createWithPrices(
    concertId: string,
    title: string,
    venue: string,
    dates: string[],
    priceOf: (seatNumber: number) => number,
    now: number,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.insert(concerts).values({ id: concertId, title, venue, createdAt: new Date(now) });
      for (const date of dates) {
        const showId = randomUUID();
        await tx.insert(shows).values({ id: showId, concertId, date, totalSeats: DEFAULT_SEATS_PER_SHOW });
        await tx.insert(seats).values(
          Array.from({ length: DEFAULT_SEATS_PER_SHOW }, (_, i) => ({
            showId,
            seatNumber: i + 1,
            price: priceOf(i + 1),
          })),
        );
      }
    });
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
               count(*) FILTER (WHERE NOT seat.sold AND seat.hold_expires_at > ${new Date(now)})::int AS held,
               count(*) FILTER (WHERE seat.sold)::int AS sold
        FROM ${shows} s JOIN ${seats} seat ON seat.show_id = s.id
        ${concertId === undefined ? sql`` : sql`WHERE s.concert_id = ${concertId}`}
        GROUP BY s.concert_id`),
    );
  }
}
