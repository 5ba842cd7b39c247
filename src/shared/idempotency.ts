import { createHash } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { rowsOf } from '../db/client.js';
import { idempotencyKeys } from '../db/schema.js';
import { AppError, isAppError } from './errors.js';

/** What a write produced: replayed byte-for-byte in meaning to a retry with the same key. */
export interface Outcome {
  status: number;
  body: unknown;
  /** The body is a problem (a refused request), sent as application/problem+json. */
  problem: boolean;
  /** This is the stored answer to an earlier request with the same key. */
  replayed: boolean;
}

export interface IdempotencyScope {
  userId: string;
  key: string | undefined;
  /** Identifies the request: a retry must carry the same one. */
  fingerprint: string;
}

/** Keys are kept this long; a retry after that runs as a new request. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * Runs a money-moving write in one transaction, at most once per (user, key).
 *
 * The key row is inserted in the same transaction as the effect, so a concurrent retry blocks
 * on the key's unique index until the first commits, then reads its stored response: the
 * effect happens once without any in-process lock. A refused request (a domain error such as
 * INSUFFICIENT_BALANCE) rolls its effect back to a savepoint but keeps the key with the
 * refusal, so a retry gets the same answer. A 5xx stores nothing: the client may retry.
 */
export async function runIdempotent(
  db: Db,
  scope: IdempotencyScope,
  now: number,
  effect: (tx: Tx) => Promise<Pick<Outcome, 'status' | 'body'>>,
): Promise<Outcome> {
  if (scope.key === undefined) {
    const outcome = await db.transaction(effect);
    return { ...outcome, problem: false, replayed: false };
  }
  const key = scope.key;
  return db.transaction(async (tx) => {
    const claimed = rowsOf(
      await tx.execute(sql`
        INSERT INTO ${idempotencyKeys} (user_id, key, request_hash, created_at)
        VALUES (${scope.userId}, ${key}, ${scope.fingerprint}, ${new Date(now)})
        ON CONFLICT DO NOTHING RETURNING 1`),
    );
    if (claimed.length === 0) {
      // The key row only becomes visible together with its response (same transaction).
      return (await storedOutcome(tx, scope))!;
    }
    let outcome: Outcome;
    try {
      outcome = { ...(await tx.transaction(effect)), problem: false, replayed: false };
    } catch (error) {
      if (!isAppError(error)) throw error;
      outcome = { status: error.status, body: error.toProblem(), problem: true, replayed: false };
    }
    await tx
      .update(idempotencyKeys)
      .set({ statusCode: outcome.status, response: outcome.body })
      .where(and(eq(idempotencyKeys.userId, scope.userId), eq(idempotencyKeys.key, key)));
    return outcome;
  });
}

/**
 * The stored answer for (user, key), or null when the key is new. A key used with another
 * request is 409 IDEMPOTENCY_KEY_REUSED. Routes whose preconditions change once the write is
 * done (a payment expires its queue token) look here first, so a retry is answered as the
 * first request was rather than refused by the gate.
 */
export async function storedOutcome(db: Db | Tx, scope: IdempotencyScope): Promise<Outcome | null> {
  if (scope.key === undefined) return null;
  const [first] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.userId, scope.userId), eq(idempotencyKeys.key, scope.key)));
  if (!first) return null;
  if (first.requestHash !== scope.fingerprint) {
    throw new AppError(
      'IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was already used with a different request',
    );
  }
  return {
    status: first.statusCode!,
    body: first.response,
    problem: first.statusCode! >= 400,
    replayed: true,
  };
}

/** A request's identity for key reuse: method, route and body, with keys in a stable order. */
export function fingerprint(method: string, route: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${route}\n${canonicalJson(body)}`)
    .digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export async function purgeIdempotencyKeys(db: Db, now: number): Promise<void> {
  await db.execute(
    sql`DELETE FROM ${idempotencyKeys} WHERE created_at < ${new Date(now - IDEMPOTENCY_RETENTION_MS)}`,
  );
}
