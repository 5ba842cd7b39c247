import { and, asc, eq, gt, lt, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Executor } from '../db/client.js';
import { payments, saleAdmissions, saleSampler, saleSamples } from '../db/schema.js';
import type { ConcertSnapshot } from './sale-snapshot.js';

/** How often the fleet records one sample per concert. */
export const SAMPLE_PERIOD_MS = 5_000;
/** How far back the operator's charts look; older samples are deleted. */
export const SAMPLE_RETENTION_MS = 30 * 60_000;

export interface SalePoint {
  at: string;
  waiting: number;
  prequeued: number;
  active: number;
  /** Admissions per second since the previous sample, over all instances. */
  admittedPerSecond: number;
  held: number;
  sold: number;
  /** Won taken so far. */
  revenue: number;
}

/**
 * The operator's live charts, kept in PostgreSQL so that every instance shows the same picture.
 * Every instance runs it; per period exactly one wins the claim (a conditional UPDATE of one row)
 * and writes one row per concert, so the cost is one snapshot per period for the whole fleet.
 * Admissions are counted where they happen (each instance's admission steps) and added up in
 * sale_admissions, which the samples record.
 */
export class SaleSampler {
  private readonly pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly db: Executor,
    private readonly snapshot: (now: number) => Promise<ConcertSnapshot[]>,
    private readonly now: () => number,
    private readonly log?: FastifyBaseLogger,
  ) {}

  /** This instance admitted `count` from a concert's line (the admission ticker reports it). */
  admitted(concertId: string, count: number): void {
    this.pending.set(concertId, (this.pending.get(concertId) ?? 0) + count);
  }

  start(periodMs = SAMPLE_PERIOD_MS): void {
    this.timer = setInterval(() => void this.tick(), Math.max(250, periodMs / 5));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.sample(this.now());
    } catch (error) {
      this.log?.warn({ err: error }, 'sale sampling failed; retrying on the next period');
    } finally {
      this.running = false;
    }
  }

  /** Adds this instance's admissions, then samples the period if no instance has. */
  async sample(now: number): Promise<boolean> {
    await this.flushAdmissions();
    const at = new Date(Math.floor(now / SAMPLE_PERIOD_MS) * SAMPLE_PERIOD_MS);
    const claimed = await this.db
      .update(saleSampler)
      .set({ lastAt: at })
      .where(and(eq(saleSampler.id, 1), lt(saleSampler.lastAt, at)))
      .returning({ id: saleSampler.id });
    if (claimed.length === 0) return false;

    const [concerts, revenue, admitted] = await Promise.all([
      this.snapshot(now),
      this.db
        .select({ concertId: payments.concertId, won: sql<string>`sum(${payments.amount})` })
        .from(payments)
        .groupBy(payments.concertId),
      this.db.select().from(saleAdmissions),
    ]);
    const revenueOf = new Map(revenue.map((r) => [r.concertId, Number(r.won)]));
    const admittedOf = new Map(admitted.map((r) => [r.concertId, r.admitted]));
    if (concerts.length > 0) {
      await this.db
        .insert(saleSamples)
        .values(
          concerts.map((c) => ({
            concertId: c.concertId,
            at,
            waiting: c.waiting,
            prequeued: c.prequeued,
            active: c.active,
            admitted: admittedOf.get(c.concertId) ?? 0,
            held: c.held,
            sold: c.sold,
            revenue: revenueOf.get(c.concertId) ?? 0,
          })),
        )
        .onConflictDoNothing();
    }
    await this.db.delete(saleSamples).where(lt(saleSamples.at, new Date(at.getTime() - SAMPLE_RETENTION_MS)));
    return true;
  }

  private async flushAdmissions(): Promise<void> {
    for (const [concertId, count] of [...this.pending]) {
      await this.db
        .insert(saleAdmissions)
        .values({ concertId, admitted: count })
        .onConflictDoUpdate({
          target: saleAdmissions.concertId,
          set: { admitted: sql`${saleAdmissions.admitted} + excluded.admitted` },
        });
      // Only what was added leaves the tally: admissions made meanwhile stay for the next flush.
      const left = (this.pending.get(concertId) ?? 0) - count;
      if (left > 0) this.pending.set(concertId, left);
      else this.pending.delete(concertId);
    }
  }

  /** The last 30 minutes of a concert, oldest first. */
  async points(concertId: string, now: number): Promise<SalePoint[]> {
    const rows = await this.db
      .select()
      .from(saleSamples)
      .where(
        and(eq(saleSamples.concertId, concertId), gt(saleSamples.at, new Date(now - SAMPLE_RETENTION_MS))),
      )
      .orderBy(asc(saleSamples.at));
    return rows.map((row, i) => {
      const before = rows[i - 1];
      const seconds = before ? (row.at.getTime() - before.at.getTime()) / 1000 : 0;
      return {
        at: row.at.toISOString(),
        waiting: row.waiting,
        prequeued: row.prequeued,
        active: row.active,
        admittedPerSecond: before && seconds > 0 ? Math.max(0, row.admitted - before.admitted) / seconds : 0,
        held: row.held,
        sold: row.sold,
        revenue: row.revenue,
      };
    });
  }
}
