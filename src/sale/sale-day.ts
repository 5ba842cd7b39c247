import type { QueueSettings } from '../queue/queue-store.js';
import type { SaleSchedule } from './sale-schedule.js';
import type { ScheduledQueueStore } from './scheduled-queue-store.js';

export interface LineOverview extends QueueSettings {
  waiting: number;
  prequeued: number;
  active: number;
  saleOpensAt: string | null;
  /** Joins need a proof of work. */
  challenge: boolean;
}

/**
 * The operator's use cases of a sale: what the line looks like, and steering it. PostgreSQL
 * holds the settings; the queue store holds a copy, written after PostgreSQL.
 */
export class SaleDay {
  constructor(
    readonly schedule: SaleSchedule,
    readonly store: ScheduledQueueStore,
  ) {}

  async lineOf(concertId: string, now: number): Promise<LineOverview> {
    const [sale, counts, prequeued] = await Promise.all([
      this.schedule.find(concertId),
      this.store.counts(concertId, now),
      this.store.prequeue.prequeueCount(concertId),
    ]);
    return {
      waiting: counts.waiting + prequeued,
      prequeued,
      active: counts.active,
      ...this.schedule.settingsOf(sale),
      saleOpensAt: sale?.saleOpensAt?.toISOString() ?? null,
      challenge: sale?.challenge ?? false,
    };
  }

  /**
   * Changes settings and/or the opening (undefined: unchanged; null: open now). PostgreSQL is
   * written first: should the store's copy then fail (Redis down, a 503), the change is kept
   * and the store is refilled from PostgreSQL, never the other way round.
   */
  async steer(
    concertId: string,
    patch: Partial<QueueSettings>,
    opensAt: number | null | undefined,
    now: number,
  ): Promise<LineOverview> {
    const settings = await this.schedule.saveSettings(concertId, patch);
    if (opensAt !== undefined) await this.schedule.setOpening(concertId, opensAt, now);
    this.store.forget(concertId);
    // Every field, not just the patch: the copy then never leans on an instance's defaults.
    await this.store.updateSettings(concertId, settings);
    return this.lineOf(concertId, now);
  }

  /** The published draw; after the opening it is drawn first if nobody has yet. */
  async draw(concertId: string, now: number) {
    const published = await this.schedule.published(concertId);
    if (published.seed === null && now >= Date.parse(published.saleOpensAt)) {
      await this.store.opened(concertId, now);
      return this.schedule.published(concertId);
    }
    return published;
  }
}
