import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { errors, IsoDate, Timestamp, Uuid } from '../http/schemas.js';
import type { RoutePlugin } from '../http/types.js';
import { gate } from '../queue/gate.js';
import type { QueueService } from '../queue/queue.service.js';
import type { Clock } from '../shared/clock.js';
import type { AccessTokens } from '../users/access-token.js';
import { authenticate } from '../users/authenticate.js';
import type { ConcertsService } from './concerts.service.js';
import type { Version } from './seat-changes.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The concert's seat-state version, read while the gate checks the queue token. */
    seatVersion: Promise<Version> | undefined;
  }
}

export const ConcertSchema = Type.Object({
  concertId: Uuid,
  title: Type.String(),
  venue: Type.String(),
  dates: Type.Array(IsoDate),
  saleOpensAt: Type.Union([Timestamp, Type.Null()], { description: 'scheduled opening; null: on sale now' }),
});

const GateHeaders = Type.Object({ 'queue-token': Type.Optional(Type.String()) });
const gatedErrors = errors(400, 401, 403, 404, 429);
const concertFromPath = (request: FastifyRequest) => (request.params as { concertId: string }).concertId;

/**
 * Seat-state answers come rendered (and reused, see SeatReadCache): a string with a JSON
 * content type goes out as it is, past the response serializer. The response schemas above
 * still document them.
 */
const sendRendered = (reply: FastifyReply, json: string) =>
  reply.type('application/json; charset=utf-8').send(json);

/** What concertsRoutes needs, wired by app.ts. */
export interface ConcertsRouteOptions {
  concerts: ConcertsService;
  /** Checks the queue token at the gate. */
  queue: QueueService;
  accessTokens: AccessTokens;
  clock: Clock;
}

export const concertsRoutes: RoutePlugin<ConcertsRouteOptions> = async (
  app,
  { concerts, queue, accessTokens, clock },
) => {
  app.decorateRequest('seatVersion', undefined);
  // The version read and the gate's Redis call leave together: one round trip, not two.
  const peekSeatVersion = async (request: FastifyRequest) => {
    request.seatVersion = concerts.peekSeatVersion(concertFromPath(request));
  };
  const gated = {
    onRequest: authenticate(accessTokens),
    preHandler: [peekSeatVersion, gate(queue, concertFromPath)],
  };

  app.get(
    '/api/v1/concerts',
    {
      schema: {
        tags: ['concerts'],
        summary: 'Concerts and their upcoming dates',
        response: { 200: Type.Array(ConcertSchema), ...errors(429) },
      },
    },
    async () => concerts.list(clock.now()),
  );

  app.get(
    '/api/v1/concerts/:concertId/dates',
    {
      ...gated,
      schema: {
        tags: ['concerts'],
        summary: 'Dates not in the past with seats left (gated)',
        security: [{ bearer: [], queueToken: [] }],
        headers: GateHeaders,
        params: Type.Object({ concertId: Uuid }),
        response: {
          200: Type.Array(
            Type.Object({ date: IsoDate, totalSeats: Type.Integer(), availableSeats: Type.Integer() }),
          ),
          ...gatedErrors,
        },
      },
    },
    async (request, reply) =>
      sendRendered(
        reply,
        await concerts.availableDates(request.params.concertId, clock.now(), request.seatVersion),
      ),
  );

  app.get(
    '/api/v1/concerts/:concertId/dates/:date/seats',
    {
      ...gated,
      schema: {
        tags: ['concerts'],
        summary: 'Every seat of a show with its price and state (gated)',
        security: [{ bearer: [], queueToken: [] }],
        headers: GateHeaders,
        params: Type.Object({ concertId: Uuid, date: IsoDate }),
        response: {
          200: Type.Object({
            date: IsoDate,
            availableSeats: Type.Integer(),
            seats: Type.Array(
              Type.Object({
                seatNumber: Type.Integer({ minimum: 1 }),
                price: Type.Integer(),
                status: Type.Union([Type.Literal('AVAILABLE'), Type.Literal('HELD'), Type.Literal('SOLD')]),
              }),
            ),
          }),
          ...gatedErrors,
        },
      },
    },
    async (request, reply) =>
      sendRendered(
        reply,
        await concerts.seatMap(
          request.params.concertId,
          request.params.date,
          clock.now(),
          request.seatVersion,
        ),
      ),
  );
};
