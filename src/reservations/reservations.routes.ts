import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { MAX_SEATS_PER_SHOW } from '../concerts/seating-plan.js';
import { errors, IsoDate, Timestamp, Uuid } from '../http/schemas.js';
import type { RoutePlugin } from '../http/types.js';
import type { Metrics } from '../ops/metrics.js';
import { gate } from '../queue/gate.js';
import type { QueueService } from '../queue/queue.service.js';
import type { Clock } from '../shared/clock.js';
import type { AccessTokens } from '../users/access-token.js';
import { authenticate } from '../users/authenticate.js';
import type { ReservationsService } from './reservations.service.js';

const ReservationSchema = Type.Object({
  reservationId: Uuid,
  concertId: Uuid,
  date: IsoDate,
  seatNumber: Type.Integer(),
  section: Type.String(),
  row: Type.Integer({ description: '1 = the front row of its section' }),
  number: Type.Integer({ description: 'place in the row' }),
  grade: Type.String(),
  price: Type.Integer(),
  status: Type.Union([
    Type.Literal('HELD'),
    Type.Literal('CONFIRMED'),
    Type.Literal('EXPIRED'),
    Type.Literal('CANCELLED'),
    Type.Literal('REFUNDED'),
  ]),
  holdExpiresAt: Timestamp,
  createdAt: Timestamp,
});

const ReservationParams = Type.Object({ reservationId: Uuid });

const SeatNumber = Type.Integer({ minimum: 1, maximum: MAX_SEATS_PER_SHOW });
/** How many seats one request may name: the schema's bound; MAX_HOLDS_PER_USER is checked after. */
const MANY = 100;
const Show = { concertId: Uuid, date: IsoDate };
const closed = { additionalProperties: false } as const;
/** API.md's three forms of a hold: one seat, these seats, or the best `quantity` seats. */
const HoldBody = Type.Union([
  Type.Object({ ...Show, seatNumber: SeatNumber }, { ...closed, title: 'one seat' }),
  Type.Object(
    { ...Show, seatNumbers: Type.Array(SeatNumber, { minItems: 1, maxItems: MANY, uniqueItems: true }) },
    { ...closed, title: 'these seats, all or none' },
  ),
  Type.Object(
    {
      ...Show,
      quantity: Type.Integer({ minimum: 1, maximum: MANY }),
      section: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
      grade: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
    },
    { ...closed, title: 'best available: seats side by side in one row' },
  ),
]);
const concertFromBody = (request: FastifyRequest) => (request.body as { concertId: string }).concertId;

/** What reservationsRoutes needs, wired by app.ts. */
export interface ReservationsRouteOptions {
  reservations: ReservationsService;
  /** Checks the queue token at the gate. */
  queue: QueueService;
  accessTokens: AccessTokens;
  clock: Clock;
  metrics: Metrics;
}

export const reservationsRoutes: RoutePlugin<ReservationsRouteOptions> = async (
  app,
  { reservations, queue, accessTokens, clock, metrics },
) => {
  const user = { onRequest: authenticate(accessTokens) };

  app.post(
    '/api/v1/reservations',
    {
      ...user,
      preHandler: gate(queue, concertFromBody),
      schema: {
        tags: ['reservations'],
        summary:
          'Hold a seat, these seats, or the best seats for HOLD_TTL_SECONDS (gated by the body’s concert)',
        security: [{ bearer: [], queueToken: [] }],
        headers: Type.Object({ 'queue-token': Type.Optional(Type.String()) }),
        body: HoldBody,
        response: {
          201: Type.Union([ReservationSchema, Type.Object({ reservations: Type.Array(ReservationSchema) })]),
          ...errors(400, 401, 403, 404, 409, 429),
        },
      },
    },
    async (request, reply) => {
      const held = await reservations.hold(request.userId, request.body, clock.now());
      metrics.holds.inc(held.length);
      // The one-seat form answers the reservation itself, the others a list (API.md).
      return reply.code(201).send('seatNumber' in request.body ? held[0]! : { reservations: held });
    },
  );

  app.get(
    '/api/v1/reservations',
    {
      ...user,
      schema: {
        tags: ['reservations'],
        summary: 'Your reservations, newest first',
        security: [{ bearer: [] }],
        response: { 200: Type.Array(ReservationSchema), ...errors(401, 429) },
      },
    },
    async (request) => reservations.list(request.userId, clock.now()),
  );

  app.get(
    '/api/v1/reservations/:reservationId',
    {
      ...user,
      schema: {
        tags: ['reservations'],
        summary: 'One of your reservations',
        security: [{ bearer: [] }],
        params: ReservationParams,
        response: { 200: ReservationSchema, ...errors(400, 401, 404, 429) },
      },
    },
    async (request) => reservations.get(request.userId, request.params.reservationId, clock.now()),
  );

  app.delete(
    '/api/v1/reservations/:reservationId',
    {
      ...user,
      schema: {
        tags: ['reservations'],
        summary: 'Cancel a held seat; it is free at once',
        security: [{ bearer: [] }],
        params: ReservationParams,
        response: { 204: Type.Null(), ...errors(400, 401, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      await reservations.cancel(request.userId, request.params.reservationId, clock.now());
      return reply.code(204).send(null);
    },
  );
};
