import { Type } from 'typebox';
import { authenticate } from '../http/auth.js';
import { errors, Timestamp, Uuid } from '../http/schemas.js';
import type { RoutePlugin } from '../http/types.js';
import { isAppError } from '../shared/errors.js';
import type { QueueStatus } from './queue.service.js';

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

/** How often an open event stream re-reads its status, and the longest silence it allows. */
export const EVENTS_POLL_MS = 1000;
export const EVENTS_HEARTBEAT_MS = 15_000;

export const queueRoutes: RoutePlugin = async (app, { queue, accessTokens, clock }) => {
  // Event streams are hijacked connections the server would otherwise wait on when closing:
  // a shutting-down instance ends them itself (clients reconnect to another instance).
  const openStreams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const finish of openStreams) finish();
  });

  app.post(
    '/api/v1/queue/tokens',
    {
      onRequest: authenticate(accessTokens),
      schema: {
        tags: ['queue'],
        summary: 'Join the line of a concert (or get your current token back)',
        security: [{ bearer: [] }],
        body: Type.Object({ concertId: Uuid }, { additionalProperties: false }),
        response: { 200: QueueStatusSchema, 201: QueueStatusSchema, ...errors(400, 401, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const { created, status } = await queue.join(request.userId, request.body.concertId);
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
        querystring: Type.Object({ token: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
        response: {
          200: {
            description: 'text/event-stream: each event’s data is a queue status object',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...errors(400, 401),
        },
      },
    },
    async (request, reply) => {
      const { token } = request.query;
      // Refusals (a bad token) are ordinary problem responses, before the stream opens.
      let status = await queue.status(token);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      let last = '';
      let lastSentAt = 0;
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearInterval(timer);
        openStreams.delete(finish);
        if (!res.writableEnded) res.end();
      };
      openStreams.add(finish);
      const send = (s: QueueStatus) => {
        const json = JSON.stringify(s);
        if (json === last && clock.now() - lastSentAt < EVENTS_HEARTBEAT_MS) return;
        last = json;
        lastSentAt = clock.now();
        res.write(`data: ${json}\n\n`);
        if (s.status !== 'WAITING') finish();
      };
      res.write('retry: 2000\n\n');
      send(status);
      if (res.writableEnded) return;
      timer = setInterval(async () => {
        try {
          status = await queue.status(token);
          send(status);
        } catch (error) {
          if (!isAppError(error)) request.log.warn({ err: error }, 'queue event stream read failed');
          finish();
        }
      }, EVENTS_POLL_MS);
      request.raw.on('close', finish);
    },
  );
};
