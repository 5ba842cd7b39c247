import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../shared/clock.js';
import { PeriodicJob } from '../shared/periodic-job.js';
import type { RefundsService } from './refunds.service.js';

export interface CancellationRefundsSettings {
  periodMs: number;
  /** Payments returned per transaction: each commit's locks and WAL stay small. */
  batch: number;
  /** Transactions per period at most, so one instance never holds the pool for long. */
  maxBatches: number;
}

/** Defaults; `batch` comes from CANCEL_REFUND_BATCH. */
export const CANCELLATION_REFUNDS_DEFAULTS: CancellationRefundsSettings = {
  periodMs: 1000,
  batch: 200,
  maxBatches: 10,
};

/**
 * The refund job of cancelled shows, on every instance. Each batch is one transaction that
 * returns its payments or changes nothing, claimed with SKIP LOCKED, so instances share the work
 * without waiting on each other and an instance that dies mid-batch leaves nothing half done: the
 * batch rolls back and whichever instance runs next takes it. With no cancellation under way a
 * period costs one indexed look (shows_cancelling_idx).
 */
export class CancellationRefunds {
  private readonly job: PeriodicJob;

  constructor(
    private readonly refunds: RefundsService,
    private readonly clock: Clock,
    log: FastifyBaseLogger,
    private readonly settings: CancellationRefundsSettings = CANCELLATION_REFUNDS_DEFAULTS,
  ) {
    this.job = new PeriodicJob(
      'cancellation refunds',
      settings.periodMs,
      async () => void (await this.run()),
      log,
    );
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One period's work; returns how many payments it refunded. */
  async run(): Promise<number> {
    let refunded = 0;
    for (let i = 0; i < this.settings.maxBatches; i++) {
      const n = await this.refunds.refundCancelled(this.clock.now(), this.settings.batch);
      refunded += n;
      if (n < this.settings.batch) break;
    }
    return refunded;
  }
}
