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
import type { Answer, Encoding } from './seat-read-cache.js';
import { MAX_SEATS_PER_FULL_MAP } from './seating-plan.js';

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

/** Below this, compressing costs more than it saves (API.md: JSON of 1 KB or more is compressed). */
const COMPRESS_FROM_BYTES = 1024;

/** The encoding to send a rendered answer in: brotli, else gzip, when the client takes it. */
export function preferredEncoding(accept: string | undefined): Encoding | null {
  if (!accept) return null;
  const weights = new Map<string, number>();
  for (const part of accept.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    weights.set(name!.trim(), q ? Number(q.slice(2)) : 1);
  }
  const weight = (e: string) => weights.get(e) ?? (weights.get('*') || 0);
  if (weight('br') > 0) return 'br';
  if (weight('gzip') > 0) return 'gzip';
  return null;
}

/**
 * Seat-state answers come rendered (and reused, see SeatReadCache): the JSON, or its
 * compressed form made once per rendering, goes out as it is, past the response serializer
 * and the compression hook. The response schemas above still document them.
 */
async function sendRendered(request: FastifyRequest, reply: FastifyReply, answer: Answer) {
  reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding');
  const encoding =
    answer.json.length >= COMPRESS_FROM_BYTES ? preferredEncoding(request.headers['accept-encoding']) : null;
  if (encoding === null) return reply.send(answer.json);
  return reply.header('content-encoding', encoding).send(await answer.compressed(encoding));
}

const SeatSchema = Type.Object({
  seatNumber: Type.Integer({ minimum: 1 }),
  section: Type.String(),
  row: Type.Integer({ minimum: 1, description: '1 = the front row of its section' }),
  number: Type.Integer({ minimum: 1, description: 'place in the row, from the left' }),
  grade: Type.String(),
  price: Type.Integer(),
  status: Type.Union([Type.Literal('AVAILABLE'), Type.Literal('HELD'), Type.Literal('SOLD')]),
});

const SectionSchema = Type.Object({
  section: Type.String(),
  grade: Type.String(),
  price: Type.Integer(),
  totalSeats: Type.Integer(),
  availableSeats: Type.Integer(),
});

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
        request,
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
        summary: 'The seats of a show, or of one section, with price and state (gated)',
        description: `Without \`section\`, every seat of a show of at most ${MAX_SEATS_PER_FULL_MAP} seats.`,
        security: [{ bearer: [], queueToken: [] }],
        headers: GateHeaders,
        params: Type.Object({ concertId: Uuid, date: IsoDate }),
        querystring: Type.Object(
          { section: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ date: IsoDate, availableSeats: Type.Integer(), seats: Type.Array(SeatSchema) }),
          ...gatedErrors,
        },
      },
    },
    async (request, reply) =>
      sendRendered(
        request,
        reply,
        await concerts.seatMap(
          request.params.concertId,
          request.params.date,
          request.query.section,
          clock.now(),
          request.seatVersion,
        ),
      ),
  );

  app.get(
    '/api/v1/concerts/:concertId/dates/:date/sections',
    {
      ...gated,
      schema: {
        tags: ['concerts'],
        summary: 'The venue at a glance: each section with its grade, price and seats left (gated)',
        security: [{ bearer: [], queueToken: [] }],
        headers: GateHeaders,
        params: Type.Object({ concertId: Uuid, date: IsoDate }),
        response: { 200: Type.Array(SectionSchema), ...gatedErrors },
      },
    },
    async (request, reply) =>
      sendRendered(
        request,
        reply,
        await concerts.sections(
          request.params.concertId,
          request.params.date,
          clock.now(),
          request.seatVersion,
        ),
      ),
  );
};
