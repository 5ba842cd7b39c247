import { Type } from 'typebox';
import type { ConcertsService } from '../concerts/concerts.service.js';
import { fingerprint } from '../db/idempotency.js';
import type { Hook } from '../http/auth.js';
import { errors, IdempotencyHeaders, IsoDate, Uuid } from '../http/schemas.js';
import { sendOutcome } from '../http/send-outcome.js';
import type { RoutePlugin } from '../http/types.js';
import type { Clock } from '../shared/clock.js';
import type { AccessTokens } from '../users/access-token.js';
import { authenticate } from '../users/authenticate.js';
import type { RefundsService } from './refunds.service.js';

/** What refundsRoutes needs, wired by app.ts. */
export interface RefundsRouteOptions {
  refunds: RefundsService;
  /** Finds the show a cancellation is about. */
  concerts: ConcertsService;
  accessTokens: AccessTokens;
  /** The Admin-Key check (http/auth.ts). */
  guards: { admin: Hook };
  clock: Clock;
}

const Refund = Type.Object({
  paymentId: Uuid,
  status: Type.Literal('REFUNDED'),
  refunded: Type.Integer({ description: 'what went back to the balance' }),
  fee: Type.Integer({ description: 'floor(amount × REFUND_FEE_PERCENT / 100), kept' }),
  balance: Type.Integer(),
});

const Cancellation = Type.Object({
  date: IsoDate,
  status: Type.Union([Type.Literal('CANCELLING'), Type.Literal('CANCELLED')]),
  payments: Type.Integer({ description: 'payments of the show' }),
  refunded: Type.Integer({ description: 'of them refunded so far' }),
});

export const refundsRoutes: RoutePlugin<RefundsRouteOptions> = async (
  app,
  { refunds, concerts, accessTokens, guards, clock },
) => {
  app.post(
    '/api/v1/payments/:paymentId/refund',
    {
      onRequest: authenticate(accessTokens),
      schema: {
        tags: ['payments'],
        summary:
          'Return a whole payment: the seats are free again, the balance credited less the fee (idempotent)',
        security: [{ bearer: [] }],
        headers: IdempotencyHeaders,
        params: Type.Object({ paymentId: Uuid }),
        response: { 200: Refund, ...errors(400, 401, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const { paymentId } = request.params;
      const outcome = await refunds.refund(
        paymentId,
        {
          userId: request.userId,
          key: request.headers['idempotency-key'],
          fingerprint: fingerprint('POST', `/api/v1/payments/${paymentId}/refund`, {}),
        },
        clock.now(),
      );
      return sendOutcome(reply, outcome);
    },
  );

  // Not in API.md (free to add): the two settings a buyer needs to see the fee and the cut-off
  // before returning a ticket, so the web app never hard-codes what the server decides.
  app.get(
    '/api/v1/refund-policy',
    {
      schema: {
        tags: ['payments'],
        summary:
          'The refund fee (REFUND_FEE_PERCENT) and how long before a show returns close (REFUND_CUTOFF_HOURS)',
        response: {
          200: Type.Object({
            feePercent: Type.Integer({ description: 'fee = floor(amount × feePercent / 100)' }),
            cutoffHours: Type.Integer({
              description: "returns close this long before 00:00 UTC of the show's date",
            }),
          }),
          ...errors(429),
        },
      },
    },
    async () => ({ feePercent: refunds.settings.feePercent, cutoffHours: refunds.settings.cutoffHours }),
  );

  const ShowParams = Type.Object({ concertId: Uuid, date: IsoDate });

  app.post(
    '/api/v1/admin/concerts/:concertId/dates/:date/cancel',
    {
      onRequest: guards.admin,
      schema: {
        tags: ['admin'],
        summary: 'Cancel a show: closed at once, every payment refunded in full by a resumable job',
        security: [{ adminKey: [] }],
        params: ShowParams,
        response: { 202: Cancellation, ...errors(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      const show = await concerts.findShow(request.params.concertId, request.params.date, clock.now());
      return reply.code(202).send(await refunds.cancel(show, clock.now()));
    },
  );

  app.get(
    '/api/v1/admin/concerts/:concertId/dates/:date/cancel',
    {
      onRequest: guards.admin,
      schema: {
        tags: ['admin'],
        summary: 'How far the cancellation of a show has come',
        security: [{ adminKey: [] }],
        params: ShowParams,
        response: { 200: Cancellation, ...errors(400, 401, 404) },
      },
    },
    async (request) => {
      const show = await concerts.findShow(request.params.concertId, request.params.date, clock.now());
      return refunds.cancellation(show);
    },
  );
};
