import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { adminRoutes } from './admin/admin.routes.js';
import { Signer } from './auth/signer.js';
import { concertsRoutes } from './concerts/concerts.routes.js';
import { ConcertsService } from './concerts/concerts.service.js';
import { saleRoutes } from './concerts/sale.routes.js';
import { SaleDay } from './concerts/sale-day.js';
import { SaleSchedule } from './concerts/sale-schedule.js';
import { ScheduledQueueStore } from './concerts/scheduled-queue-store.js';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { registerErrorHandling } from './http/error-handler.js';
import type { App, RouteDeps } from './http/types.js';
import { probeBackends } from './ops/backends.js';
import { Metrics } from './ops/metrics.js';
import { opsRoutes } from './ops/ops.routes.js';
import { SaleSampler } from './ops/sale-sampler.js';
import { saleSnapshot } from './ops/sale-snapshot.js';
import { paymentsRoutes } from './payments/payments.routes.js';
import { PaymentsService } from './payments/payments.service.js';
import { AdmissionTicker } from './queue/admission-ticker.js';
import { queueRoutes } from './queue/queue.routes.js';
import { QueueService } from './queue/queue.service.js';
import type { QueueStore } from './queue/queue-store.js';
import { QueueTokens } from './queue/queue-token.js';
import { reservationsRoutes } from './reservations/reservations.routes.js';
import { ReservationsService } from './reservations/reservations.service.js';
import { type Clock, systemClock } from './shared/clock.js';
import { AppError } from './shared/errors.js';
import { purgeIdempotencyKeys } from './shared/idempotency.js';
import { AccessTokens } from './users/access-token.js';
import { usersRoutes } from './users/users.routes.js';
import { UsersService } from './users/users.service.js';
import { walletRoutes } from './wallet/wallet.routes.js';
import { WalletService } from './wallet/wallet.service.js';

export interface AppOptions {
  config: Readonly<Config>;
  database: Database;
  queueStore: QueueStore;
  /** Signs user and queue tokens. */
  secret: Buffer;
  clock?: Clock;
  /** A pino logger; none logs nothing. */
  logger?: FastifyBaseLogger;
  /** The admission ticker and the hold sweeper; tests that drive time by hand turn them off. */
  backgroundJobs?: boolean;
  /** Built web app to serve at `/`; defaults to web/dist when it exists. */
  webRoot?: string | null;
}

/** How often lapsed holds are rewritten as EXPIRED (history only; never needed for correctness). */
export const SWEEP_PERIOD_MS = 1000;
const IDEMPOTENCY_PURGE_PERIOD_MS = 60 * 60 * 1000;

const defaultWebRoot = join(dirname(fileURLToPath(import.meta.url)), '..', 'web', 'dist');

/** Builds the whole service from its settings and stores. Never listens: see server.ts. */
export async function buildApp(options: AppOptions): Promise<App> {
  const { config, database } = options;
  const clock = options.clock ?? systemClock;
  const db = database.db;

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // A log line per request would cost more than the queue poll it records; metrics count them.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    // Shutdown answers with the problem+json 503 of lifecycle/drain.ts, not Fastify's own.
    return503OnClosing: false,
    trustProxy: config.trustProxy,
    ajv: {
      customOptions: {
        // Unknown fields are refused, not silently dropped; "100" is not the integer 100.
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: true,
        allErrors: false,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  registerErrorHandling(app);

  const signer = new Signer(options.secret);
  const accessTokens = new AccessTokens(signer);
  const timings = { activeTtlMs: config.queueActiveTtlMs, idleTimeoutMs: config.queueIdleTimeoutMs };
  const concerts = new ConcertsService(db);
  const schedule = new SaleSchedule(db, {
    maxActive: config.queueMaxActive,
    admitPerSecond: config.queueAdmitPerSecond,
    paused: false,
  });
  const store = new ScheduledQueueStore(options.queueStore, schedule, config.prequeueMs, app.log);
  const sales = new SaleDay(schedule, store);
  const users = new UsersService(db, accessTokens);
  const wallet = new WalletService(db);
  const reservations = new ReservationsService(db, concerts, {
    holdTtlMs: config.holdTtlMs,
    maxHoldsPerUser: config.maxHoldsPerUser,
  });
  const payments = new PaymentsService(db, reservations, wallet);
  const queue = new QueueService(store, new QueueTokens(signer), concerts, clock, timings);

  const admittedHere = new Map<string, number>();
  const metrics = new Metrics({
    snapshot: () => saleSnapshot(store, concerts, schedule, clock.now()),
    backends: () => probeBackends(database, store),
  });
  app.addHook('onResponse', async (request, reply) => metrics.observe(request, reply));
  store.onAdmitted = (concertId, count) => {
    admittedHere.set(concertId, (admittedHere.get(concertId) ?? 0) + count);
    metrics.admitted.inc({ concert_id: concertId }, count);
    sampler.admitted(concertId, count);
  };
  const sampler = new SaleSampler(
    db,
    (now) => saleSnapshot(store, concerts, schedule, now),
    () => clock.now(),
    app.log,
  );

  if (config.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: config.rateLimitPerMinute,
      timeWindow: 60_000,
      // One client is one user (or one place in line) where a token is sent, else one address:
      // buyers behind one NAT or balancer must not share a single allowance.
      keyGenerator: (request) => {
        const token = request.headers.authorization ?? request.headers['queue-token'];
        return typeof token === 'string' ? token : request.ip;
      },
      allowList: (request) => request.url.startsWith('/health') || request.url === '/metrics',
      errorResponseBuilder: (_request, context) =>
        new AppError('RATE_LIMITED', `Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s`),
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'boxoffice',
        version: '1.0.0',
        description:
          'Concert ticket reservations behind a fair waiting room. Errors are application/problem+json with a stable `code`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'accessToken from POST /api/v1/users' },
          queueToken: { type: 'apiKey', in: 'header', name: 'Queue-Token' },
          adminKey: { type: 'apiKey', in: 'header', name: 'Admin-Key' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const deps: RouteDeps = {
    clock,
    database,
    store,
    metrics,
    accessTokens,
    users,
    queue,
    concerts,
    reservations,
    wallet,
    payments,
    sales,
    sampler,
    adminKey: config.adminKey,
    admittedBy: (id) => admittedHere.get(id) ?? 0,
  };
  for (const routes of [
    usersRoutes,
    queueRoutes,
    concertsRoutes,
    saleRoutes,
    reservationsRoutes,
    walletRoutes,
    paymentsRoutes,
    adminRoutes,
    opsRoutes,
  ]) {
    await app.register(routes, deps);
  }

  const webRoot = options.webRoot === undefined ? defaultWebRoot : options.webRoot;
  if (webRoot && existsSync(join(webRoot, 'index.html'))) {
    await app.register(fastifyStatic, { root: webRoot, prefix: '/', schemaHide: true });
  } else {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><title>boxoffice</title><p>The web app is not built (<code>npm run build:web</code>). The API is documented at <a href="/docs">/docs</a>.</p>',
        ),
    );
  }

  if (options.backgroundJobs !== false) {
    const ticker = new AdmissionTicker(store, clock, app.log);
    let lastPurge = 0;
    const sweep = async () => {
      try {
        await reservations.sweepLapsed(clock.now());
        if (clock.now() - lastPurge > IDEMPOTENCY_PURGE_PERIOD_MS) {
          lastPurge = clock.now();
          await purgeIdempotencyKeys(db, clock.now());
        }
      } catch (error) {
        app.log.warn({ err: error }, 'hold sweep failed; retrying on the next period');
      }
    };
    let sweeper: NodeJS.Timeout | undefined;
    app.addHook('onReady', async () => {
      ticker.start();
      sampler.start();
      sweeper = setInterval(() => void sweep(), SWEEP_PERIOD_MS);
      sweeper.unref();
    });
    app.addHook('onClose', async () => {
      ticker.stop();
      sampler.stop();
      clearInterval(sweeper);
    });
  }

  return app;
}
