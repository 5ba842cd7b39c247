import { createHash } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { AppError } from '../shared/errors.js';
import type { Db, Executor } from './client.js';
import { rowsOf } from './client.js';
import { idempotencyKeys } from './schema.js';

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
 * What a keyed write function of the database (charge_balance, pay_reservation; see
 * idempotency.sql) answers: a refusal code, or the status and body it produced, or, when the key
 * was already used, the stored answer (`replayed`).
 */
export interface WriteAnswer {
  refusal: string | null;
  status: number | null;
  body: unknown;
  replayed: boolean;
}

/**
 * The outcome of a keyed write from the database's answer. A stored answer is replayed; a key
 * used with another request is 409 IDEMPOTENCY_KEY_REUSED; a refusal (which wrote nothing) becomes
 * its domain error, recorded under the key so a retry gets the same answer.
 */
export async function outcomeOf(
  db: Db,
  scope: IdempotencyScope,
  now: number,
  answer: WriteAnswer,
  refusal: (code: string, facts: unknown) => AppError,
): Promise<Outcome> {
  if (answer.replayed) {
    if (answer.refusal === 'IDEMPOTENCY_KEY_REUSED') throw keyReused();
    return { status: answer.status!, body: answer.body, problem: answer.status! >= 400, replayed: true };
  }
  if (answer.refusal !== null) return recordRefusal(db, scope, now, refusal(answer.refusal, answer.body));
  return { status: answer.status!, body: answer.body, problem: false, replayed: false };
}

/**
 * Records a refused request under its key (without a key, the refusal is simply thrown). The
 * write function gave its claim back when it refused, so another request with the key may have
 * answered since: then that answer stands, for this request too.
 */
async function recordRefusal(
  db: Db,
  scope: IdempotencyScope,
  now: number,
  error: AppError,
): Promise<Outcome> {
  if (scope.key === undefined) throw error;
  const body = error.toProblem();
  const recorded = rowsOf(
    await db.execute(sql`
      INSERT INTO ${idempotencyKeys} (user_id, key, request_hash, status_code, response, created_at)
      VALUES (${scope.userId}, ${scope.key}, ${scope.fingerprint}, ${error.status}, ${JSON.stringify(body)}::jsonb,
              ${new Date(now)})
      ON CONFLICT DO NOTHING RETURNING 1`),
  );
  if (recorded.length === 0) return (await storedOutcome(db, scope))!;
  return { status: error.status, body, problem: true, replayed: false };
}

/**
 * The stored answer for (user, key), or null when the key is new. A key used with another
 * request is 409 IDEMPOTENCY_KEY_REUSED. Routes whose preconditions change once the write is
 * done (a payment expires its queue token) look here first, so a retry is answered as the
 * first request was rather than refused by the gate.
 */
export async function storedOutcome(db: Executor, scope: IdempotencyScope): Promise<Outcome | null> {
  if (scope.key === undefined) return null;
  const [first] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.userId, scope.userId), eq(idempotencyKeys.key, scope.key)));
  if (!first) return null;
  if (first.requestHash !== scope.fingerprint) throw keyReused();
  return {
    status: first.statusCode!,
    body: first.response,
    problem: first.statusCode! >= 400,
    replayed: true,
  };
}

function keyReused(): AppError {
  return new AppError(
    'IDEMPOTENCY_KEY_REUSED',
    'This Idempotency-Key was already used with a different request',
  );
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
