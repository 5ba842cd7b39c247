import { Type } from 'typebox';
import type { ChallengedJoin } from '../challenge/challenged-join.js';
import { MAX_PROOF_LENGTH } from '../challenge/proof-of-work.js';
import { errors, Timestamp, Uuid } from '../http/schemas.js';
import type { RoutePlugin } from '../http/types.js';
import type { AccessTokens } from '../users/access-token.js';
import { authenticate } from '../users/authenticate.js';
import type { QueueService, QueueStatus } from './queue.service.js';
import type { StreamHub } from './stream-hub.js';

const QueueStatusSchema = Type.Object({
  token: Type.String(),
  concertId: Uuid,
  status: Type.Union([Type.Literal('WAITING'), Type.Literal('ACTIVE'), Type.Literal('EXPIRED')]),
  position: Type.Union([Type.Integer({ minimum: 1, description: '1 = next in line' }), Type.Null()]),
  estimatedWaitSeconds: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  activeUntil: Type.Union([Timestamp, Type.Null()]),
  ticket: Type.Integer({ minimum: 1, description: 'the token’s ticket number, as the draw lists it' }),
  saleOpensAt: Type.Optional(Timestamp),
});

const QueueTokenHeader = Type.Object({ 'queue-token': Type.Optional(Type.String()) });

/** What queueRoutes needs, wired by app.ts. */
export interface QueueRouteOptions {
  queue: QueueService;
  accessTokens: AccessTokens;
  /** This instance's open event streams. */
  streams: StreamHub;
  /** Joins through the concert's proof of work (challenge/). */
  challengedJoin: ChallengedJoin;
}

export const queueRoutes: RoutePlugin<QueueRouteOptions> = async (
  app,
  { queue, accessTokens, streams, challengedJoin },
) => {
  // Event streams are hijacked connections the server would otherwise wait on when closing:
  // a shutting-down instance ends them itself (clients reconnect to another instance).
  app.addHook('preClose', async () => streams.closeAll());

  app.post(
    '/api/v1/queue/tokens',
    {
      onRequest: authenticate(accessTokens),
      schema: {
        tags: ['queue'],
        summary: 'Join the line of a concert (or get your current token back)',
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            concertId: Uuid,
            proof: Type.Optional(
              Type.String({
                maxLength: MAX_PROOF_LENGTH,
                description:
                  'solved GET /api/v1/challenge (base64 ALTCHA payload); needed while the concert asks',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: QueueStatusSchema,
          201: QueueStatusSchema,
          ...errors(400, 401, 403, 404, 409, 429),
        },
      },
    },
    async (request, reply) => {
      const { concertId, proof } = request.body;
      const { created, status } = await challengedJoin.join(request.userId, concertId, proof);
      return reply.code(created ? 201 : 200).send(status);
    },
  );

  app.get(
    '/api/v1/queue/status',
    {
      schema: {
        tags: ['queue'],
        summary: 'Your place in line; polling this keeps it',
        headers: QueueTokenHeader,
        response: { 200: QueueStatusSchema, ...errors(401, 429) },
      },
    },
    async (request) => queue.status(request.headers['queue-token']),
  );

  app.delete(
    '/api/v1/queue/tokens/current',
    {
      schema: {
        tags: ['queue'],
        summary: 'Leave the line, or give back an active slot',
        headers: QueueTokenHeader,
        response: { 204: Type.Null(), ...errors(401, 429) },
      },
    },
    async (request, reply) => {
      await queue.leave(request.headers['queue-token']);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/queue/events',
    {
      schema: {
        tags: ['queue'],
        summary: 'Server-Sent Events: the queue status whenever it changes (heartbeat every 15 s)',
        description:
          'At most 3 open streams per queue token (a fourth is 429 RATE_LIMITED); an instance at its stream capacity answers 503 UNAVAILABLE with Retry-After, and the client polls /api/v1/queue/status instead.',
        querystring: Type.Object({ token: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
        response: {
          200: {
            description: 'text/event-stream: each event’s data is a queue status object',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...errors(400, 401, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const { token } = request.query;
      // Everything up to the close handler is synchronous: a client that leaves while the
      // first read is in flight closes its stream, which then is never read nor kept alive.
      const claims = queue.verify(token);
      const stream = streams.reserve(token, claims);
      const res = reply.raw;
      res.on('close', () => stream.close());
      let first: QueueStatus;
      try {
        first = await queue.status(token);
      } catch (error) {
        stream.close();
        throw error; // an ordinary problem response, before the stream opens
      }
      reply.hijack();
      if (stream.closed) {
        res.destroy();
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n\n');
      stream.start(
        {
          write: (json) => res.write(`data: ${json}\n\n`),
          end: () => {
            if (!res.writableEnded) res.end();
          },
        },
        first,
      );
    },
  );
};
