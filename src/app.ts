// The composition root, over 300 lines on purpose: every service and route plugin is built and
// wired here in one order a reader can follow, so no feature needs to know how another is made.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import compress from '@fastify/compress';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import type { Redis } from 'ioredis';
import { adminRoutes } from './admin/admin.routes.js';
import { Signer } from './auth/signer.js';
import { challengeRoutes } from './challenge/challenge.routes.js';
import { InProcessChallengeJoins, RedisChallengeJoins } from './challenge/challenge-joins.js';
import { ChallengeSettings } from './challenge/challenge-settings.js';
import { ChallengedJoin } from './challenge/challenged-join.js';
import { ProofOfWork } from './challenge/proof-of-work.js';
import { InProcessSpentChallenges, RedisSpentChallenges } from './challenge/spent-challenges.js';
import { concertsRoutes } from './concerts/concerts.routes.js';
import { ConcertsService } from './concerts/concerts.service.js';
import { InProcessSeatVersions, RedisSeatVersions, type SeatChanges } from './concerts/seat-changes.js';
import { SeatReadCache } from './concerts/seat-read-cache.js';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { IdempotencyPurge } from './db/idempotency-purge.js';
import { requireAdmin, requireMetricsKey } from './http/auth.js';
import { canonicalKeywords, registerCanonicalInput } from './http/canonical-input.js';
import { clientErrorHandler, frameworkErrors, registerErrorHandling } from './http/error-handler.js';
import { type LoadMonitor, registerLoadShedding } from './http/load-shedding.js';
import { registerRateLimits } from './http/rate-limits.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import type { App } from './http/types.js';
import { Metrics } from './ops/metrics.js';
import { opsRoutes } from './ops/ops.routes.js';
import { SaleSampler } from './ops/sale-sampler.js';
import { saleReadings, saleSnapshot } from './ops/sale-snapshot.js';
import { PayForReservation } from './payments/pay-for-reservation.js';
import { paymentsRoutes } from './payments/payments.routes.js';
import { PaymentsService } from './payments/payments.service.js';
import { AdmissionTicker } from './queue/admission-ticker.js';
import { queueRoutes } from './queue/queue.routes.js';
import { QueueService } from './queue/queue.service.js';
import { queueOptions } from './queue/queue-options.js';
import type { QueueStore } from './queue/queue-store.js';
import { QueueTokens } from './queue/queue-token.js';
import { StreamHub } from './queue/stream-hub.js';
import { DEFAULT_PREFIX } from './redis/keys.js';
import { CANCELLATION_REFUNDS_DEFAULTS, CancellationRefunds } from './refunds/cancellation-refunds.js';
import { refundsRoutes } from './refunds/refunds.routes.js';
import { RefundsService } from './refunds/refunds.service.js';
import { HoldSweeper } from './reservations/hold-sweeper.js';
import { reservationsRoutes } from './reservations/reservations.routes.js';
import { ReservationsService } from './reservations/reservations.service.js';
import { saleRoutes } from './sale/sale.routes.js';
import { SaleDay } from './sale/sale-day.js';
import { SaleSchedule } from './sale/sale-schedule.js';
import { ScheduledQueueStore } from './sale/scheduled-queue-store.js';
import { type Clock, systemClock } from './shared/clock.js';
import { coalesce } from './shared/coalesce.js';
import type { TurnScheduler } from './shared/turn-batcher.js';
import { requireGateKey } from './tickets/gate-key.js';
import { TicketKeys } from './tickets/ticket-keys.js';
import { ticketsRoutes } from './tickets/tickets.routes.js';
import { TicketsService } from './tickets/tickets.service.js';
import { AccessTokens } from './users/access-token.js';
import { usersRoutes } from './users/users.routes.js';
import { UsersService } from './users/users.service.js';
import { walletRoutes } from './wallet/wallet.routes.js';
import { WalletService } from './wallet/wallet.service.js';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';
import { WebhookMetrics } from './webhooks/webhook-metrics.js';
import { WebhookStore } from './webhooks/webhook-store.js';
import { webhooksRoutes } from './webhooks/webhooks.routes.js';

export interface AppOptions {
  config: Readonly<Config>;
  database: Database;
  queueStore: QueueStore;
  /** Signs user and queue tokens. */
  secret: Buffer;
  clock?: Clock;
  /** When the queue's per-turn batches leave (default: the end of the event-loop turn); tests hold them. */
  turnScheduler?: TurnScheduler;
  /** A pino logger; none logs nothing. */
  logger?: FastifyBaseLogger;
  /** The admission ticker and the hold sweeper; tests that drive time by hand turn them off. */
  backgroundJobs?: boolean;
  /** Built web app to serve at `/`; defaults to web/dist when it exists. */
  webRoot?: string | null;
  /**
   * The Redis connection (the queue's), when there is one: rate budgets then hold cluster-wide,
   * and every instance sees every seat change (the seat versions live there).
   */
  redis?: Redis;
  /** Prefix of this app's own Redis keys (rate budgets, seat versions); tests isolate with a random one. */
  redisPrefix?: string;
  /** What decides when requests are shed (default: event-loop lag and heap, per config); tests force it. */
  loadMonitor?: LoadMonitor;
}

/** The queue and seat gauges are computed at most this often per instance, however often scraped. */
export const METRICS_SNAPSHOT_MAX_AGE_MS = 5000;
/** How often Node looks for requests past their header or request timeout. */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

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
    // A slow client (a byte a minute) is cut off with 408 instead of holding a connection.
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
    clientErrorHandler,
    frameworkErrors,
    ajv: {
      plugins: [canonicalKeywords],
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
  // First of the onRequest hooks: a shed request costs no rate-limit round trip to Redis.
  registerLoadShedding(
    app,
    {
      maxEventLoopDelayMs: config.overloadMaxEventLoopDelayMs,
      maxHeapPercent: config.overloadMaxHeapPercent,
      retryAfterSeconds: config.overloadRetryAfterSeconds,
    },
    options.loadMonitor,
  );
  registerCanonicalInput(app);

  const signer = new Signer(options.secret);
  const accessTokens = new AccessTokens(signer);
  const { timings, defaults } = queueOptions(config);
  const seatReads = new SeatReadCache(
    options.redis
      ? new RedisSeatVersions(
          options.redis,
          (error) => app.log.warn({ err: error }, 'seat version'),
          options.redisPrefix,
        )
      : new InProcessSeatVersions(),
  );
  const concerts = new ConcertsService(db, seatReads);
  const schedule = new SaleSchedule(db, defaults);
  const store = new ScheduledQueueStore(options.queueStore, schedule, config.prequeueMs, app.log);
  const sales = new SaleDay(schedule, store);
  const users = new UsersService(db, accessTokens);
  const wallet = new WalletService(db);
  // The ticket signing key is settled before the app serves: a damaged stored key stops start-up.
  const tickets = new TicketsService(db, await TicketKeys.load(db, config.ticketSigningKey, clock.now()));
  const seatChanges: SeatChanges = seatReads;
  const reservations = new ReservationsService(
    db,
    concerts,
    { holdTtlMs: config.holdTtlMs, maxHoldsPerUser: config.maxHoldsPerUser },
    seatChanges,
  );
  const payments = new PaymentsService(db);
  const refunds = new RefundsService(
    db,
    { feePercent: config.refundFeePercent, cutoffHours: config.refundCutoffHours },
    seatChanges,
  );
  const queueTokens = new QueueTokens(signer);
  // Where a line's settings come from when the queue store has none (new line, Redis emptied):
  // PostgreSQL, never un-paused defaults (issue 10 item 2).
  const queueSettingsSource = (concertId: string) => schedule.queueSettings(concertId);
  const queue = new QueueService(
    store,
    queueTokens,
    (concertId) => concerts.assertExists(concertId),
    clock,
    timings,
    queueSettingsSource,
    options.turnScheduler,
  );

  // Proof of work (API.md "Proof of work against bots"): with Redis, a challenge is spent once
  // across every instance; embedded, in this process.
  const redisPrefix = options.redisPrefix ?? DEFAULT_PREFIX;
  const pow = new ProofOfWork(
    options.secret,
    config.challengeCost,
    options.redis ? new RedisSpentChallenges(options.redis, redisPrefix) : new InProcessSpentChallenges(),
    clock,
  );
  const challenges = new ChallengeSettings(schedule);
  const challengedJoin = new ChallengedJoin(
    queue,
    challenges,
    options.redis ? new RedisChallengeJoins(options.redis, redisPrefix) : new InProcessChallengeJoins(),
    pow,
  );

  const admittedHere = new Map<string, number>();
  // One read of the stores per period serves every gauge and the stores' health alike.
  const readings = coalesce(
    () => saleReadings(store, concerts, schedule, clock.now()),
    METRICS_SNAPSHOT_MAX_AGE_MS,
  );
  const metrics = new Metrics({
    snapshot: async () => (await readings()).concerts,
    backends: async () => (await readings()).up,
  });
  const webhooks = new WebhookStore(db);
  new WebhookMetrics(
    metrics.registry,
    coalesce(() => webhooks.counts(), METRICS_SNAPSHOT_MAX_AGE_MS),
    () => clock.now(),
  );
  const payForReservation = new PayForReservation(db, payments, queue, seatChanges, metrics, app.log);
  app.addHook('onClose', async () => payForReservation.close());
  // A Redis that hung answers again (redis/connection.ts): slots of buyers who paid meanwhile go back now.
  options.redis?.on('responsive', () => payForReservation.retryNow());
  // A callback hook, not an async one: no promise per request for a synchronous count.
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observe(request, reply);
    done();
  });
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

  const keyAttempts = await registerRateLimits(app, {
    config,
    identify: {
      accessToken: (token) => accessTokens.verify(token),
      queueToken: (token) => queueTokens.verify(token)?.userId ?? null,
    },
    ...(options.redis ? { redis: options.redis } : {}),
    prefix: options.redisPrefix ?? DEFAULT_PREFIX,
  });

  registerSecurityHeaders(app);
  // API.md: JSON answers of 1 KB or more go out compressed when the client takes it. Seat maps and
  // sections come compressed already, once per version (SeatReadCache), and pass through as they are.
  // Request bodies are not inflated: a body is what its bytes say, within bodyLimit.
  await app.register(compress, { threshold: 1024, encodings: ['br', 'gzip'], globalDecompression: false });

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
          gateKey: { type: 'apiKey', in: 'header', name: 'Gate-Key' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Each route module gets only the services it names in its options type.
  const guards = {
    admin: requireAdmin(config.adminKey, keyAttempts),
    metrics: requireMetricsKey(config.metricsKey, keyAttempts),
  };
  const streams = new StreamHub(
    store,
    (token, concertId, view) => queue.present(token, concertId, queue.verify(token).ticket, view),
    clock,
    app.log,
    config.eventStreamsMax,
  );
  await app.register(usersRoutes, {
    users,
    clock,
    ...(config.signupChallenge ? { signupChallenge: pow } : {}),
  });
  await app.register(queueRoutes, { queue, accessTokens, streams, challengedJoin });
  await app.register(challengeRoutes, { pow });
  await app.register(concertsRoutes, { concerts, queue, accessTokens, clock });
  await app.register(saleRoutes, { concerts, sales, clock });
  await app.register(reservationsRoutes, { reservations, queue, accessTokens, clock, metrics });
  await app.register(walletRoutes, { wallet, accessTokens, clock });
  await app.register(paymentsRoutes, {
    payments,
    payForReservation,
    accessTokens,
    clock,
    maxHoldsPerUser: config.maxHoldsPerUser,
  });
  await app.register(adminRoutes, {
    concerts,
    guards,
    clock,
    admittedBy: (id: string) => admittedHere.get(id) ?? 0,
    sales,
    sampler,
    challenges,
  });
  await app.register(refundsRoutes, { refunds, concerts, accessTokens, guards, clock });
  await app.register(webhooksRoutes, { webhooks, guards, clock });
  await app.register(opsRoutes, { database, store, metrics, guards });
  await app.register(ticketsRoutes, {
    tickets,
    accessTokens,
    gate: requireGateKey(config.gateKey, keyAttempts),
    clock,
  });

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
    // Admissions are counted by the scheduled store's advance (store.onAdmitted), not here too.
    const ticker = new AdmissionTicker(store, clock, app.log, queueSettingsSource, {
      onLoss: () => metrics.queueDataLosses.inc(),
    });
    const sweeper = new HoldSweeper(reservations, clock, app.log);
    const purge = new IdempotencyPurge(db, clock, app.log);
    const cancellationRefunds = new CancellationRefunds(refunds, clock, app.log, {
      ...CANCELLATION_REFUNDS_DEFAULTS,
      batch: config.cancelRefundBatch,
    });
    app.addHook('onReady', async () => {
      ticker.start();
      sampler.start();
      sweeper.start();
      purge.start();
      cancellationRefunds.start();
    });
    app.addHook('onClose', async () => {
      ticker.stop();
      sampler.stop();
      await Promise.all([sweeper.stop(), purge.stop(), cancellationRefunds.stop()]);
    });
  }

  // Every instance delivers the outbox when there is a receiver (claims never overlap: SKIP LOCKED).
  if (options.backgroundJobs !== false && config.webhookUrl && config.webhookSecret) {
    const dispatcher = new WebhookDispatcher(webhooks, clock, app.log, {
      url: config.webhookUrl,
      secret: config.webhookSecret,
    });
    app.addHook('onReady', async () => dispatcher.start());
    app.addHook('onClose', async () => dispatcher.stop());
  }

  return app;
}
