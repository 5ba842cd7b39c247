import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ConcertsService } from '../concerts/concerts.service.js';
import type { SaleDay } from '../concerts/sale-day.js';
import type { Database } from '../db/client.js';
import type { Metrics } from '../ops/metrics.js';
import type { SaleSampler } from '../ops/sale-sampler.js';
import type { PayForReservation } from '../payments/pay-for-reservation.js';
import type { PaymentsService } from '../payments/payments.service.js';
import type { QueueService } from '../queue/queue.service.js';
import type { QueueStore } from '../queue/queue-store.js';
import type { StreamHub } from '../queue/stream-hub.js';
import type { ReservationsService } from '../reservations/reservations.service.js';
import type { Clock } from '../shared/clock.js';
import type { AccessTokens } from '../users/access-token.js';
import type { UsersService } from '../users/users.service.js';
import type { WalletService } from '../wallet/wallet.service.js';
import type { Hook } from './auth.js';

/** The Fastify instance every route file registers on, typed by its TypeBox schemas. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Everything a route module may need, built once by app.ts and handed to each as its options. */
export interface RouteDeps {
  clock: Clock;
  database: Database;
  store: QueueStore;
  metrics: Metrics;
  accessTokens: AccessTokens;
  users: UsersService;
  queue: QueueService;
  concerts: ConcertsService;
  reservations: ReservationsService;
  wallet: WalletService;
  payments: PaymentsService;
  payForReservation: PayForReservation;
  /** onRequest hooks checking a shared key: Admin-Key, and METRICS_KEY for /metrics. */
  guards: { admin: Hook; metrics: Hook };
  /** This instance's open event streams. */
  streams: StreamHub;
  /** Scheduled sales: settings in PostgreSQL, opening, pre-queue draw. */
  sales: SaleDay;
  /** The operator's live charts: samples shared by every instance. */
  sampler: SaleSampler;
  /** Admissions this instance made per concert since it started (operator console). */
  admittedBy: (concertId: string) => number;
}

/** A route module: a Fastify plugin taking the one dependencies object. */
export type RoutePlugin = FastifyPluginAsyncTypebox<RouteDeps>;
