import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../shared/errors.js';
import type { AttemptBudget } from './attempt-budget.js';

/** A request hook: an onRequest or preHandler check that throws an AppError to refuse. */
export type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * Compares a given secret with the expected one in time that depends on neither: both are
 * hashed first, so even their lengths leak nothing through timing.
 */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * A shared key in a header (Admin-Key, or the metrics key as a bearer credential). Wrong
 * guesses spend the client address's attempt budget (429 once spent); a right key gives its
 * attempt back. With no key configured, the endpoint is off (`offDetail` says why).
 */
export function requireKey(options: {
  expected: string | undefined;
  given: (request: FastifyRequest) => string | undefined;
  budget: AttemptBudget;
  missingDetail: string;
  offDetail: string;
}): Hook {
  const { expected, given, budget } = options;
  return async (request, reply) => {
    if (!expected) throw new AppError('UNAUTHENTICATED', options.offDetail);
    const key = given(request);
    if (!key) throw new AppError('UNAUTHENTICATED', options.missingDetail);
    const who = `key:${request.ip}`;
    const attempt = await budget.take(who);
    if (!attempt.allowed) {
      reply.header('retry-after', String(attempt.retryAfterSeconds));
      throw new AppError('RATE_LIMITED', 'Too many wrong keys from this address; try again later');
    }
    if (!sameSecret(key, expected)) throw new AppError('UNAUTHENTICATED', options.missingDetail);
    await budget.giveBack(who);
  };
}

/** `Admin-Key: <ADMIN_KEY>`; with no ADMIN_KEY configured, the admin API is off. */
export function requireAdmin(adminKey: string | undefined, budget: AttemptBudget): Hook {
  return requireKey({
    expected: adminKey,
    given: (request) => header(request, 'admin-key'),
    budget,
    missingDetail: 'Send the Admin-Key header',
    offDetail: 'The admin API is off: start the server with ADMIN_KEY set',
  });
}

/** `Authorization: Bearer <METRICS_KEY>` when METRICS_KEY is set; else /metrics is public. */
export function requireMetricsKey(metricsKey: string | undefined, budget: AttemptBudget): Hook {
  if (!metricsKey) return async () => {};
  return requireKey({
    expected: metricsKey,
    given: (request) => {
      const value = header(request, 'authorization');
      return value?.startsWith('Bearer ') ? value.slice(7).trim() : undefined;
    },
    budget,
    missingDetail: 'Send Authorization: Bearer <METRICS_KEY>',
    offDetail: 'Metrics are off',
  });
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
