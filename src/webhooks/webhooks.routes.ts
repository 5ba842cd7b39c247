import { Type } from 'typebox';
import type { Hook } from '../http/auth.js';
import { errors, Timestamp, Uuid } from '../http/schemas.js';
import type { RoutePlugin } from '../http/types.js';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import type { PageCursor, WebhookEventRow, WebhookStore } from './webhook-store.js';

const Status = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]);
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const WebhookEvent = Type.Object({
  id: Uuid,
  type: Type.String({
    description: 'payment.succeeded, payment.refunded, show.cancelled or ticket.checked_in',
  }),
  createdAt: Timestamp,
  data: Type.Unknown({ description: 'what the receiver gets as "data"' }),
  status: Status,
  attempts: Type.Integer({ description: 'delivery attempts so far' }),
  nextAttemptAt: Nullable(Timestamp),
  lastAttemptAt: Nullable(Timestamp),
  lastError: Nullable(Type.String()),
  deliveredAt: Nullable(Timestamp),
});

const MAX_PAGE = 200;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function present(row: WebhookEventRow) {
  return {
    id: row.id,
    type: row.type,
    createdAt: iso(row.createdAt)!,
    data: row.data,
    status: row.status,
    attempts: row.attempts,
    // Only a pending event has a next attempt; the column keeps the last lease otherwise.
    nextAttemptAt: row.status === 'pending' ? iso(row.nextAttemptAt) : null,
    lastAttemptAt: iso(row.lastAttemptAt),
    lastError: row.lastError,
    deliveredAt: iso(row.deliveredAt),
  };
}

/** Cursor of the page after `row`: its created_at (ms) and id, opaque to clients. */
const cursorOf = (row: WebhookEventRow) => Buffer.from(`${row.createdAt}:${row.id}`).toString('base64url');

function parseCursor(cursor: string): PageCursor {
  const match = /^(\d{1,15}):([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new AppError('VALIDATION_FAILED', 'cursor is not one this endpoint gave');
  return { createdAt: Number(match[1]), id: match[2]! };
}

/** What webhooksRoutes needs, wired by app.ts. */
export interface WebhooksRouteOptions {
  webhooks: WebhookStore;
  /** The Admin-Key check (http/auth.ts). */
  guards: { admin: Hook };
  clock: Clock;
}

/** The operator's view of the outbox (API.md "Events to other systems"): list, and send one again. */
export const webhooksRoutes: RoutePlugin<WebhooksRouteOptions> = async (app, { webhooks, guards, clock }) => {
  const admin = { onRequest: guards.admin };

  app.get(
    '/api/v1/admin/webhooks',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: 'Webhook events with their delivery attempts, newest first',
        security: [{ adminKey: [] }],
        querystring: Type.Object(
          {
            status: Type.Optional(Status),
            // A string, as query values arrive (the app coerces no types): 1..200.
            limit: Type.Optional(
              Type.String({
                pattern: '^(?:[1-9][0-9]?|1[0-9][0-9]|200)$',
                description: `1..${MAX_PAGE}, default 50`,
              }),
            ),
            cursor: Type.Optional(
              Type.String({ minLength: 1, maxLength: 100, description: 'nextCursor of the previous page' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            events: Type.Array(WebhookEvent),
            nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'null on the last page' }),
          }),
          ...errors(400, 401),
        },
      },
    },
    async (request) => {
      const { status, cursor } = request.query;
      const limit = Number(request.query.limit ?? 50);
      const rows = await webhooks.list({
        limit,
        ...(status ? { status } : {}),
        ...(cursor ? { cursor: parseCursor(cursor) } : {}),
      });
      const last = rows.length === limit ? rows[rows.length - 1] : undefined;
      return { events: rows.map(present), nextCursor: last ? cursorOf(last) : null };
    },
  );

  app.post(
    '/api/v1/admin/webhooks/:id/retry',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: 'Send a webhook event again now (pending, due at once)',
        security: [{ adminKey: [] }],
        params: Type.Object({ id: Uuid }),
        response: { 200: WebhookEvent, ...errors(400, 401, 404) },
      },
    },
    async (request) => {
      const row = await webhooks.retry(request.params.id, clock.now());
      if (!row) throw new AppError('NOT_FOUND', `No webhook event ${request.params.id}`);
      return present(row);
    },
  );
};
