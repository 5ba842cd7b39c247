import { Type } from 'typebox';
import { fingerprint } from '../db/idempotency.js';
import { errors, IdempotencyHeaders, IsoDate, Timestamp, Uuid } from '../http/schemas.js';
import { sendOutcome } from '../http/send-outcome.js';
import type { RoutePlugin } from '../http/types.js';
import type { Clock } from '../shared/clock.js';
import type { AccessTokens } from '../users/access-token.js';
import { authenticate } from '../users/authenticate.js';
import type { PayForReservation } from './pay-for-reservation.js';
import type { PaymentsService } from './payments.service.js';

const PaymentSchema = Type.Object({
  paymentId: Uuid,
  reservationId: Uuid,
  concertId: Uuid,
  date: IsoDate,
  seatNumber: Type.Integer(),
  amount: Type.Integer(),
  balance: Type.Integer({ description: 'what is left after this payment' }),
  paidAt: Timestamp,
});

/** What paymentsRoutes needs, wired by app.ts. */
export interface PaymentsRouteOptions {
  payments: PaymentsService;
  payForReservation: PayForReservation;
  accessTokens: AccessTokens;
  clock: Clock;
}

export const paymentsRoutes: RoutePlugin<PaymentsRouteOptions> = async (
  app,
  { payments, payForReservation, accessTokens, clock },
) => {
  const user = { onRequest: authenticate(accessTokens) };

  app.post(
    '/api/v1/payments',
    {
      ...user,
      schema: {
        tags: ['payments'],
        summary: 'Pay for a held seat from the balance (gated, idempotent with Idempotency-Key)',
        security: [{ bearer: [], queueToken: [] }],
        headers: Type.Intersect([
          IdempotencyHeaders,
          Type.Object({ 'queue-token': Type.Optional(Type.String()) }),
        ]),
        body: Type.Object({ reservationId: Uuid }, { additionalProperties: false }),
        response: { 201: PaymentSchema, ...errors(400, 401, 403, 404, 409, 410, 429) },
      },
    },
    async (request, reply) => {
      const outcome = await payForReservation.pay(
        {
          userId: request.userId,
          reservationId: request.body.reservationId,
          queueToken: request.headers['queue-token'],
          idempotencyKey: request.headers['idempotency-key'],
          fingerprint: fingerprint('POST', '/api/v1/payments', request.body),
        },
        clock.now(),
      );
      return sendOutcome(reply, outcome);
    },
  );

  app.get(
    '/api/v1/payments',
    {
      ...user,
      schema: {
        tags: ['payments'],
        summary: 'Your payments, newest first',
        security: [{ bearer: [] }],
        response: { 200: Type.Array(PaymentSchema), ...errors(401, 429) },
      },
    },
    async (request) => payments.list(request.userId),
  );
};
