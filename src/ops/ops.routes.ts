import { Type } from 'typebox';
import { errors } from '../http/schemas.js';
import type { RoutePlugin } from '../http/types.js';
import { coalesce } from '../shared/coalesce.js';

export const opsRoutes: RoutePlugin = async (app, { database: db, store, metrics, guards }) => {
  const Status = Type.Object({ status: Type.String() });
  // A probe storm costs one ping of each store per second per instance.
  const ready = coalesce(() => Promise.all([db.ping(), store.ping()]), 1000);

  app.get(
    '/health/live',
    { schema: { tags: ['operations'], summary: 'The process is running', response: { 200: Status } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        tags: ['operations'],
        summary: 'The database (and Redis, where configured) answer',
        response: { 200: Status, ...errors(503) },
      },
    },
    async () => {
      // Any failure here becomes 503 UNAVAILABLE through the error handler.
      await ready();
      return { status: 'ready' };
    },
  );

  app.get(
    '/metrics',
    {
      onRequest: guards.metrics,
      schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: false },
    },
    async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
};
