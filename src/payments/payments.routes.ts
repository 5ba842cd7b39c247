import { Type } from 'typebox';
import { fingerprint } from '../db/idempotency.js';
import { errors, IdempotencyHeaders, IsoDate, Timestamp, Uuid } from '../http/schemas.js';
import { sendOutcome } from '../http/send-outcome.js';
import type { RoutePlugin } from '../http/types.js';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import type { AccessTokens } from '../users/access-token.js';
import { authenticate } from '../users/authenticate.js';
import type { PayForReservation } from './pay-for-reservation.js';
import type { PaymentsService } from './payments.service.js';

const PaidSeatSchema = Type.Object({
  reservationId: Uuid,
  seatNumber: Type.Integer(),
  section: Type.String(),
  row: Type.Integer(),
  number: Type.Integer(),
  grade: Type.String(),
  price: Type.Integer(),
});

const PaymentSchema = Type.Object({
  paymentId: Uuid,
  concertId: Uuid,
  date: IsoDate,
  status: Type.Union([Type.Literal('PAID'), Type.Literal('REFUNDED')]),
  amount: Type.Integer({ description: 'the total' }),
  balance: Type.Integer({ description: 'what is left after this payment' }),
  paidAt: Timestamp,
  reservationIds: Type.Array(Uuid),
  seats: Type.Array(PaidSeatSchema),
  reservationId: Type.Optional(Uuid),
  seatNumber: Type.Optional(Type.Integer()),
});

/** How many reservations one body may name: the schema's bound; MAX_HOLDS_PER_USER is checked after. */
const MANY = 100;
/** API.md: one reservation, or several of one show. */
const PayBody = Type.Union([
  Type.Object({ reservationId: Uuid }, { additionalProperties: false }),
  Type.Object(
    { reservationIds: Type.Array(Uuid, { minItems: 1, maxItems: MANY, uniqueItems: true }) },
    { additionalProperties: false },
  ),
]);

/** What paymentsRoutes needs, wired by app.ts. */
export interface PaymentsRouteOptions {
  payments: PaymentsService;
  payForReservation: PayForReservation;
  accessTokens: AccessTokens;
  clock: Clock;
  /** MAX_HOLDS_PER_USER: one payment covers at most this many reservations. */
  maxHoldsPerUser: number;
}

/** The body's reservations as one list: distinct (ids arrive lowercased) and within the limit. */
function reservationIdsOf(
  body: { reservationId: string } | { reservationIds: string[] },
  max: number,
): string[] {
  const ids = 'reservationId' in body ? [body.reservationId] : body.reservationIds;
  if (new Set(ids).size !== ids.length)
    throw new AppError('VALIDATION_FAILED', 'Each reservation may appear once');
  if (ids.length > max)
    throw new AppError('VALIDATION_FAILED', `One payment covers at most ${max} reservations`);
  return ids;
}

export const paymentsRoutes: RoutePlugin<PaymentsRouteOptions> = async (
  app,
  { payments, payForReservation, accessTokens, clock, maxHoldsPerUser },
) => {
  const user = { onRequest: authenticate(accessTokens) };

  app.post(
    '/api/v1/payments',
    {
      ...user,
      schema: {
        tags: ['payments'],
        summary:
          'Pay for held seats of one show from the balance, all or none (gated, idempotent with Idempotency-Key)',
        security: [{ bearer: [], queueToken: [] }],
        headers: Type.Intersect([
          IdempotencyHeaders,
          Type.Object({ 'queue-token': Type.Optional(Type.String()) }),
        ]),
        body: PayBody,
        response: { 201: PaymentSchema, ...errors(400, 401, 403, 404, 409, 410, 429) },
      },
    },
    async (request, reply) => {
      const outcome = await payForReservation.pay(
        {
          userId: request.userId,
          reservationIds: reservationIdsOf(request.body, maxHoldsPerUser),
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
