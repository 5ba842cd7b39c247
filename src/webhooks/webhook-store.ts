import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { rowsOf } from '../db/client.js';

/**
 * The outbox table (webhook_events, migration 0008) as the dispatcher and the admin endpoints
 * see it. Rows are written only by record_event (record-event.sql), in the transaction of their
 * effect; everything here moves a row along pending → delivered | failed, each change one
 * conditional statement, so any number of instances may share the table.
 */

export type WebhookStatus = 'pending' | 'delivered' | 'failed';

/** A row claimed for one delivery attempt. */
export interface ClaimedEvent {
  id: string;
  type: string;
  createdAt: number;
  data: unknown;
  /** Attempts counted so far, this one included (the claim counts it). */
  attempts: number;
}

/** A row as the admin list shows it (times in ms since the epoch, or null). */
export interface WebhookEventRow extends ClaimedEvent {
  status: WebhookStatus;
  nextAttemptAt: number;
  lastAttemptAt: number | null;
  lastError: string | null;
  deliveredAt: number | null;
}

export interface WebhookCounts {
  pending: number;
  failed: number;
  /** created_at of the oldest pending event, or null when none is pending. */
  oldestPendingAt: number | null;
}

/** Times leave PostgreSQL as epoch milliseconds: one form for node-postgres and PGlite alike. */
const ms = (column: string) => sql.raw(`(extract(epoch from ${column}) * 1000)::float8`);

const ROW_COLUMNS = sql`id, type, ${ms('created_at')} AS created_at, data, attempts, status,
  ${ms('next_attempt_at')} AS next_attempt_at, ${ms('last_attempt_at')} AS last_attempt_at,
  last_error, ${ms('delivered_at')} AS delivered_at`;

interface RawRow {
  id: string;
  type: string;
  created_at: number;
  data: unknown;
  attempts: number;
  status: WebhookStatus;
  next_attempt_at: number;
  last_attempt_at: number | null;
  last_error: string | null;
  delivered_at: number | null;
}

const time = (value: number | null) => (value === null ? null : Math.round(Number(value)));

function toRow(raw: RawRow): WebhookEventRow {
  return {
    id: raw.id,
    type: raw.type,
    createdAt: time(raw.created_at)!,
    data: raw.data,
    attempts: raw.attempts,
    status: raw.status,
    nextAttemptAt: time(raw.next_attempt_at)!,
    lastAttemptAt: time(raw.last_attempt_at),
    lastError: raw.last_error,
    deliveredAt: time(raw.delivered_at),
  };
}

/** A page's position: the last row's (created_at, id), newest first. */
export interface PageCursor {
  createdAt: number;
  id: string;
}

export class WebhookStore {
  constructor(private readonly db: Db) {}

  /**
   * Claims up to `limit` due events for this instance, in one statement: each is counted as an
   * attempt and leased until `now + leaseMs` (its next_attempt_at), so no other instance claims
   * it meanwhile, and one whose claimer dies (SIGKILL) becomes due again when the lease ends.
   * SKIP LOCKED lets instances claiming at the same moment take different rows instead of
   * waiting on each other. When nothing is due this is one probe of webhook_events_due_idx.
   */
  async claim(now: number, leaseMs: number, limit: number): Promise<ClaimedEvent[]> {
    const rows = rowsOf<RawRow>(
      await this.db.execute(sql`
        UPDATE webhook_events
        SET attempts = attempts + 1, next_attempt_at = ${new Date(now + leaseMs)}, last_attempt_at = ${new Date(now)}
        WHERE id IN (
          SELECT id FROM webhook_events
          WHERE status = 'pending' AND next_attempt_at <= ${new Date(now)}
          ORDER BY next_attempt_at LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
        RETURNING ${ROW_COLUMNS}`),
    );
    return rows.map(toRow).map(({ id, type, createdAt, data, attempts }) => ({
      id,
      type,
      createdAt,
      data,
      attempts,
    }));
  }

  /**
   * Deletes up to `batch` events delivered before `before` (webhook_events_status_idx, oldest
   * first); returns how many. The outbox keeps what may still be asked about, not all history.
   */
  async purgeDelivered(before: number, batch: number): Promise<number> {
    const rows = rowsOf(
      await this.db.execute(sql`
        DELETE FROM webhook_events WHERE id IN (
          SELECT id FROM webhook_events WHERE status = 'delivered' AND created_at < ${new Date(before)}
          ORDER BY created_at LIMIT ${batch})
        RETURNING 1`),
    );
    return rows.length;
  }

  /**
   * A 2xx came back: the event is delivered, whoever holds its lease now (a receiver that got
   * it has it). Only a pending row changes: an operator's retry of a delivered event is a
   * pending row again, and its own attempt marks it.
   */
  async delivered(id: string, now: number): Promise<boolean> {
    const rows = rowsOf(
      await this.db.execute(sql`
        UPDATE webhook_events SET status = 'delivered', delivered_at = ${new Date(now)}, last_error = NULL
        WHERE id = ${id} AND status = 'pending' RETURNING 1`),
    );
    return rows.length > 0;
  }

  /**
   * An attempt failed: the next one at `nextAt`, or `failed` when `giveUp`. Only the attempt
   * that still holds the row changes it (same attempt count, still pending): a late answer to
   * a lease that ran out must not move a newer attempt's schedule, nor undo a delivery.
   */
  async attemptFailed(
    event: { id: string; attempts: number },
    error: string,
    outcome: { giveUp: true } | { giveUp: false; nextAt: number },
  ): Promise<boolean> {
    const rows = rowsOf(
      await this.db.execute(
        outcome.giveUp
          ? sql`UPDATE webhook_events SET status = 'failed', last_error = ${error}
              WHERE id = ${event.id} AND status = 'pending' AND attempts = ${event.attempts} RETURNING 1`
          : sql`UPDATE webhook_events SET next_attempt_at = ${new Date(outcome.nextAt)}, last_error = ${error}
              WHERE id = ${event.id} AND status = 'pending' AND attempts = ${event.attempts} RETURNING 1`,
      ),
    );
    return rows.length > 0;
  }

  /** Sends one again now, whatever its state: pending and due at `now`. Null when unknown. */
  async retry(id: string, now: number): Promise<WebhookEventRow | null> {
    const rows = rowsOf<RawRow>(
      await this.db.execute(sql`
        UPDATE webhook_events SET status = 'pending', next_attempt_at = ${new Date(now)}, delivered_at = NULL
        WHERE id = ${id} RETURNING ${ROW_COLUMNS}`),
    );
    return rows[0] ? toRow(rows[0]) : null;
  }

  /**
   * Events newest first, `limit` at most, after `cursor` (the last row of the previous page).
   * With a status, one range of webhook_events_status_idx; without, the three statuses' ranges
   * merged, so either way a page reads about `limit` rows, however large the table.
   */
  async list(options: {
    status?: WebhookStatus;
    limit: number;
    cursor?: PageCursor;
  }): Promise<WebhookEventRow[]> {
    const statuses: WebhookStatus[] = options.status ? [options.status] : ['pending', 'delivered', 'failed'];
    const after = options.cursor
      ? sql`AND (created_at, id) < (${new Date(options.cursor.createdAt)}, ${options.cursor.id}::uuid)`
      : sql``;
    const parts = statuses.map(
      (status) => sql`(SELECT * FROM webhook_events WHERE status = ${status} ${after}
        ORDER BY created_at DESC, id DESC LIMIT ${options.limit})`,
    );
    const rows = rowsOf<RawRow>(
      await this.db.execute(sql`
        SELECT ${ROW_COLUMNS} FROM (${sql.join(parts, sql` UNION ALL `)}) e
        ORDER BY e.created_at DESC, e.id DESC LIMIT ${options.limit}`),
    );
    return rows.map(toRow);
  }

  /** The backlog, from the indexes only (no scan of delivered events). */
  async counts(): Promise<WebhookCounts> {
    const [row] = rowsOf<{ pending: number; failed: number; oldest: number | null }>(
      await this.db.execute(sql`
        SELECT (SELECT count(*) FROM webhook_events WHERE status = 'pending')::int AS pending,
               (SELECT count(*) FROM webhook_events WHERE status = 'failed')::int AS failed,
               (SELECT ${ms('min(created_at)')} FROM webhook_events WHERE status = 'pending') AS oldest`),
    );
    return { pending: row!.pending, failed: row!.failed, oldestPendingAt: time(row!.oldest) };
  }
}
