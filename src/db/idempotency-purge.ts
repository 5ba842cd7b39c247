import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../shared/clock.js';
import { PeriodicJob } from '../shared/periodic-job.js';
import type { Db } from './client.js';
import { rowsOf } from './client.js';
import { IDEMPOTENCY_RETENTION_MS } from './idempotency.js';
import { idempotencyKeys } from './schema.js';

export interface IdempotencyPurgeSettings {
  /** How often to look for work. */
  periodMs: number;
  /** How often a full purge is needed (keys live IDEMPOTENCY_RETENTION_MS; an hour late is fine). */
  everyMs: number;
  /** Keys deleted per statement: each statement's locks and WAL stay small. */
  batch: number;
  /** Statements per period at most: a large backlog is worked off over several periods. */
  maxBatches: number;
}

const IDEMPOTENCY_PURGE_DEFAULTS: IdempotencyPurgeSettings = {
  periodMs: 60_000,
  everyMs: 60 * 60 * 1000,
  batch: 5000,
  maxBatches: 20,
};

/**
 * Deletes Idempotency-Keys older than their retention, oldest first, in bounded batches. The
 * purge counts as done only when a batch comes back short (nothing old is left): a failure or a
 * backlog larger than one period's bound leaves it due, and the next period carries on.
 */
export class IdempotencyPurge {
  private readonly job: PeriodicJob;
  /** When the last complete purge finished; 0 = due now. */
  private completedAt = 0;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    log: FastifyBaseLogger,
    private readonly settings: IdempotencyPurgeSettings = IDEMPOTENCY_PURGE_DEFAULTS,
  ) {
    this.job = new PeriodicJob(
      'idempotency-key purge',
      settings.periodMs,
      async () => void (await this.purge()),
      log,
    );
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One period's work, when a purge is due; returns how many keys were deleted. */
  async purge(): Promise<number> {
    if (this.clock.now() - this.completedAt < this.settings.everyMs) return 0;
    let deleted = 0;
    for (let i = 0; i < this.settings.maxBatches; i++) {
      const n = await this.deleteBatch(this.clock.now() - IDEMPOTENCY_RETENTION_MS);
      deleted += n;
      if (n < this.settings.batch) {
        this.completedAt = this.clock.now();
        break;
      }
    }
    return deleted;
  }

  private async deleteBatch(before: number): Promise<number> {
    const [row] = rowsOf<{ n: number }>(
      await this.db.execute(sql`
        WITH gone AS (
          -- The oldest keys by the created_at index, deleted by row address: no plan can scan the table.
          DELETE FROM ${idempotencyKeys} WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM ${idempotencyKeys}
            WHERE created_at < ${new Date(before)} ORDER BY created_at LIMIT ${this.settings.batch}))
          RETURNING 1)
        SELECT count(*)::int AS n FROM gone`),
    );
    return row!.n;
  }
}
