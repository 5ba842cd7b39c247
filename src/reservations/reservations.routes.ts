import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { MAX_SEATS_PER_SHOW } from '../concerts/dates.js';
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
  price: Type.Integer(),
  status: Type.Union([
    Type.Literal('HELD'),
    Type.Literal('CONFIRMED'),
    Type.Literal('EXPIRED'),
    Type.Literal('CANCELLED'),
  ]),
  holdExpiresAt: Timestamp,
  createdAt: Timestamp,
});

const ReservationParams = Type.Object({ reservationId: Uuid });
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
        summary: 'Hold a seat for HOLD_TTL_SECONDS (gated by the body’s concert)',
        security: [{ bearer: [], queueToken: [] }],
        headers: Type.Object({ 'queue-token': Type.Optional(Type.String()) }),
        body: Type.Object(
          {
            concertId: Uuid,
            date: IsoDate,
            seatNumber: Type.Integer({ minimum: 1, maximum: MAX_SEATS_PER_SHOW }),
          },
          { additionalProperties: false },
        ),
        response: { 201: ReservationSchema, ...errors(400, 401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const reservation = await reservations.hold(request.userId, request.body, clock.now());
      metrics.holds.inc();
      return reply.code(201).send(reservation);
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
