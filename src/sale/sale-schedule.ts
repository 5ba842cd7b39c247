import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { concertSales } from '../db/schema.js';
import type { QueueSettings } from '../queue/queue-store.js';
import { AppError } from '../shared/errors.js';
import { commitmentOf, newSeed } from './draw.js';

/** A concert's sale as PostgreSQL holds it; null fields follow the config defaults. */
export interface Sale {
  concertId: string;
  paused: boolean | null;
  maxActive: number | null;
  admitPerSecond: number | null;
  saleOpensAt: Date | null;
  drawSeed: string | null;
  drawCommitment: string | null;
  drawBase: number | null;
  drawTickets: number[] | null;
  drawnAt: Date | null;
  /** Joins need a proof of work. */
  challenge: boolean;
}

/** A draw as published: the seed stays hidden until the order is drawn. */
export interface PublishedDraw {
  saleOpensAt: string;
  seedCommitment: string;
  seed: string | null;
  tickets: number[] | null;
}

/**
 * The operator's side of a sale, kept in PostgreSQL (issue 10 item 2, issue 13): the queue
 * settings (the queue store only caches them, so a Redis that comes back empty is refilled from
 * here and never un-pauses a sale), the opening time, and the draw. Every write is one statement.
 */
export class SaleSchedule {
  constructor(
    private readonly db: Executor,
    private readonly defaults: QueueSettings,
  ) {}

  async find(concertId: string, db: Executor = this.db): Promise<Sale | null> {
    const [row] = await db.select().from(concertSales).where(eq(concertSales.concertId, concertId));
    return row ?? null;
  }

  /**
   * The line's settings as the operator left them: what the queue store must hold. This is the
   * `settingsSource` the admission ticker restores a line's settings from.
   */
  async queueSettings(concertId: string): Promise<QueueSettings> {
    return this.settingsOf(await this.find(concertId));
  }

  settingsOf(sale: Sale | null): QueueSettings {
    return {
      maxActive: sale?.maxActive ?? this.defaults.maxActive,
      admitPerSecond: sale?.admitPerSecond ?? this.defaults.admitPerSecond,
      paused: sale?.paused ?? this.defaults.paused,
    };
  }

  /** Writes the given settings (others keep their value); returns every setting after it. */
  async saveSettings(concertId: string, patch: Partial<QueueSettings>): Promise<QueueSettings> {
    const set: Partial<typeof concertSales.$inferInsert> = {};
    if (patch.maxActive !== undefined) set.maxActive = patch.maxActive;
    if (patch.admitPerSecond !== undefined) set.admitPerSecond = patch.admitPerSecond;
    if (patch.paused !== undefined) set.paused = patch.paused;
    if (Object.keys(set).length === 0) return this.queueSettings(concertId);
    const [row] = await this.db
      .insert(concertSales)
      .values({ concertId, ...set })
      .onConflictDoUpdate({ target: concertSales.concertId, set })
      .returning();
    return this.settingsOf(row ?? null);
  }

  /** Whether joins of the concert's line need a proof of work (false for a concert never set). */
  async challengeOf(concertId: string): Promise<boolean> {
    return (await this.find(concertId))?.challenge ?? false;
  }

  /** Turns the proof of work of the concert's joins on or off. */
  async saveChallenge(concertId: string, challenge: boolean): Promise<void> {
    await this.db
      .insert(concertSales)
      .values({ concertId, challenge })
      .onConflictDoUpdate({ target: concertSales.concertId, set: { challenge } });
  }

  /**
   * Schedules, moves or clears the opening. The first schedule fixes the draw's seed and
   * publishes its commitment; moving the opening keeps both, so the seed can never be chosen
   * once people are waiting. Clearing it while a pre-queue waits opens the sale now (the draw
   * still happens). Once drawn, the opening is history and cannot move.
   */
  async setOpening(concertId: string, opensAt: number | null, now: number, db: Executor = this.db) {
    const seed = newSeed();
    const [row] = await db
      .insert(concertSales)
      .values({
        concertId,
        saleOpensAt: opensAt === null ? null : new Date(opensAt),
        drawSeed: opensAt === null ? null : seed,
        drawCommitment: opensAt === null ? null : commitmentOf(seed),
      })
      .onConflictDoUpdate({
        target: concertSales.concertId,
        set: {
          saleOpensAt:
            opensAt === null
              ? sql`CASE WHEN ${concertSales.drawSeed} IS NULL THEN NULL ELSE ${new Date(now)}::timestamptz END`
              : new Date(opensAt),
          drawSeed: sql`coalesce(${concertSales.drawSeed}, excluded.draw_seed)`,
          drawCommitment: sql`coalesce(${concertSales.drawCommitment}, excluded.draw_commitment)`,
        },
        setWhere: isNull(concertSales.drawnAt),
      })
      .returning();
    if (!row)
      throw new AppError(
        'VALIDATION_FAILED',
        'The sale has opened and its draw is done: the opening can no longer move',
      );
    return row;
  }

  /**
   * Records the draw; the first writer wins and every later one (the same draw from another
   * instance) reads it back.
   */
  async recordDraw(concertId: string, base: number, tickets: number[], now: number): Promise<Sale> {
    await this.db
      .update(concertSales)
      .set({ drawBase: base, drawTickets: tickets, drawnAt: new Date(now) })
      .where(and(eq(concertSales.concertId, concertId), isNull(concertSales.drawnAt)));
    const sale = await this.find(concertId);
    if (!sale?.drawnAt) throw new Error(`draw of ${concertId} was not recorded`);
    return sale;
  }

  /** Concerts whose line the operator has paused. */
  async pausedConcerts(): Promise<Set<string>> {
    const rows = await this.db
      .select({ concertId: concertSales.concertId })
      .from(concertSales)
      .where(eq(concertSales.paused, true));
    return new Set(rows.map((r) => r.concertId));
  }

  /** The draw as anyone may see it; 404 for a concert that never had a scheduled opening. */
  async published(concertId: string): Promise<PublishedDraw> {
    const sale = await this.find(concertId);
    if (!sale?.saleOpensAt || !sale.drawCommitment) {
      throw new AppError('NOT_FOUND', 'This concert has no pre-queue: its sale was never scheduled');
    }
    const drawn = sale.drawnAt !== null;
    return {
      saleOpensAt: sale.saleOpensAt.toISOString(),
      seedCommitment: sale.drawCommitment,
      seed: drawn ? sale.drawSeed : null,
      tickets: drawn ? (sale.drawTickets ?? []) : null,
    };
  }
}

/**
 * The line settings as PostgreSQL holds them, for the admission ticker to restore a line whose
 * copy in the queue store is missing (a Redis that came back empty): it must never fall back
 * to un-paused defaults. Wire it as the ticker's `settingsSource`.
 */
export function postgresSettingsSource(
  db: Executor,
  defaults: QueueSettings,
): (concertId: string) => Promise<QueueSettings> {
  const schedule = new SaleSchedule(db, defaults);
  return (concertId) => schedule.queueSettings(concertId);
}
