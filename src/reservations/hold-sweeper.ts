import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../shared/clock.js';
import { PeriodicJob } from '../shared/periodic-job.js';
import type { ReservationsService } from './reservations.service.js';

export interface HoldSweeperSettings {
  periodMs: number;
  /** Rows rewritten per statement: each statement's locks and WAL stay small. */
  batch: number;
  /** Statements per period at most: a backlog is worked off over several periods. */
  maxBatches: number;
}

const HOLD_SWEEPER_DEFAULTS: HoldSweeperSettings = { periodMs: 1000, batch: 1000, maxBatches: 10 };

/**
 * Rewrites lapsed holds as EXPIRED so history reads right. Correctness never waits for it (a
 * lapsed hold is free and reads EXPIRED the instant it lapses), so it can run late, fail or run on
 * every instance at once. Each batch is its own statement, which commits or changes nothing:
 * there is no progress to lose, and a failed period is simply redone by the next.
 */
export class HoldSweeper {
  private readonly job: PeriodicJob;

  constructor(
    private readonly reservations: ReservationsService,
    private readonly clock: Clock,
    log: FastifyBaseLogger,
    private readonly settings: HoldSweeperSettings = HOLD_SWEEPER_DEFAULTS,
  ) {
    this.job = new PeriodicJob('hold sweep', settings.periodMs, async () => void (await this.sweep()), log);
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One period's work: batches until the lapsed holds run out or the period's bound is reached. */
  async sweep(): Promise<number> {
    let swept = 0;
    for (let i = 0; i < this.settings.maxBatches; i++) {
      const n = await this.reservations.expireLapsed(this.clock.now(), this.settings.batch);
      swept += n;
      if (n < this.settings.batch) break;
    }
    return swept;
  }
}
