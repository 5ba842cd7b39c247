import { Type } from 'typebox';
import type { Database } from '../db/client.js';
import type { Hook } from '../http/auth.js';
import { errors } from '../http/schemas.js';
import type { RoutePlugin } from '../http/types.js';
import type { QueueStore } from '../queue/queue-store.js';
import { coalesce } from '../shared/coalesce.js';
import type { Metrics } from './metrics.js';

/** What opsRoutes needs, wired by app.ts. */
export interface OpsRouteOptions {
  database: Database;
  store: QueueStore;
  metrics: Metrics;
  /** The METRICS_KEY check (http/auth.ts). */
  guards: { metrics: Hook };
}

export const opsRoutes: RoutePlugin<OpsRouteOptions> = async (
  app,
  { database: db, store, metrics, guards },
) => {
  const Status = Type.Object({ status: Type.String() });
  // A probe storm costs one ping of each store per second per instance.
  const ready = coalesce(() => Promise.all([db.ping(), store.ping()]), 1000);
  const Ready = Type.Object({
    status: Type.String(),
    /** Times this instance found the queue store had lost its data, and the latest (ms). */
    queueDataLosses: Type.Integer(),
    queueDataLostAt: Type.Union([Type.String(), Type.Null()]),
  });

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
        response: { 200: Ready, ...errors(503) },
      },
    },
    async () => {
      // Any failure here becomes 503 UNAVAILABLE through the error handler.
      await ready();
      const losses = store.losses();
      const lostAt = losses.lastAt === null ? null : new Date(losses.lastAt).toISOString();
      return { status: 'ready', queueDataLosses: losses.count, queueDataLostAt: lostAt };
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
