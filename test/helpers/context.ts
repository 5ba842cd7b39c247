import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { addDays, todayUtc } from '../../src/concerts/dates.js';
import type { Config } from '../../src/config.js';
import type { Database } from '../../src/db/client.js';
import type { App } from '../../src/http/types.js';
import type { QueueStore } from '../../src/queue/queue-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { TurnScheduler } from '../../src/shared/turn-batcher.js';
import { ADMIN_KEY, openQueueStore, startApp, testConfig } from './app.js';
import { type Backend, resetDatabase } from './backends.js';

export { ADMIN_KEY } from './app.js';

export interface Response<T = any> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface CallOptions {
  body?: unknown;
  user?: User;
  queueToken?: string;
  headers?: Record<string, string>;
}

export interface User {
  userId: string;
  accessToken: string;
}

/**
 * A running service for one test: the real app on a real database, driven through HTTP
 * (`app.inject`), with time in the test's hands (a manual clock, no background timers unless
 * asked for).
 */
export class TestContext {
  constructor(
    readonly app: App,
    readonly clock: ManualClock,
    readonly store: QueueStore,
    readonly config: Readonly<Config>,
    readonly database: Database,
  ) {}

  async call<T = any>(method: string, url: string, options: CallOptions = {}): Promise<Response<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.user) headers.authorization = `Bearer ${options.user.accessToken}`;
    if (options.queueToken) headers['queue-token'] = options.queueToken;
    const res = await this.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(options.body !== undefined ? { payload: options.body as object } : {}),
    });
    const type = String(res.headers['content-type'] ?? '');
    const body = type.includes('json') && res.body ? JSON.parse(res.body) : res.body;
    return { status: res.statusCode, body, headers: res.headers };
  }

  async newUser(name = 'buyer'): Promise<User> {
    const res = await this.call('POST', '/api/v1/users', { body: { name } });
    if (res.status !== 201) throw new Error(`user: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** A concert whose dates start a month from the clock's today. */
  async newConcert(
    options: { dates?: number; seats?: number; price?: number } = {},
  ): Promise<{ concertId: string; dates: string[] }> {
    const first = addDays(todayUtc(this.clock.now()), 30);
    const res = await this.call('POST', '/api/v1/admin/concerts', {
      headers: { 'admin-key': ADMIN_KEY },
      body: {
        title: 'Test Concert',
        venue: 'Test Hall',
        dates: Array.from({ length: options.dates ?? 1 }, (_, i) => ({
          date: addDays(first, i),
          seats: options.seats ?? 50,
          price: options.price ?? 100_000,
        })),
      },
    });
    if (res.status !== 201) throw new Error(`concert: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async join(user: User, concertId: string): Promise<Response> {
    return this.call('POST', '/api/v1/queue/tokens', { user, body: { concertId } });
  }

  /** One admission step at the current time (what the ticker does every 100 ms). */
  async advance(concertId: string): Promise<number> {
    return (await this.store.advance(concertId, this.clock.now())).admitted;
  }

  /** A user admitted to the concert: returns the user and the ACTIVE queue token. */
  async activeBuyer(concertId: string, balance = 0): Promise<{ user: User; queueToken: string }> {
    const user = await this.newUser();
    const joined = await this.join(user, concertId);
    const queueToken: string = joined.body.token;
    for (let i = 0; i < 1000; i++) {
      const status = await this.call('GET', '/api/v1/queue/status', { queueToken });
      if (status.body.status === 'ACTIVE') break;
      this.clock.advance(1000);
      await this.advance(concertId);
    }
    if (balance > 0) await this.charge(user, balance);
    return { user, queueToken };
  }

  async charge(user: User, amount: number, key?: string): Promise<Response> {
    return this.call('POST', '/api/v1/balance/charges', {
      user,
      body: { amount },
      ...(key ? { headers: { 'idempotency-key': key } } : {}),
    });
  }

  async hold(buyer: { user: User; queueToken: string }, concertId: string, date: string, seatNumber: number) {
    return this.call('POST', '/api/v1/reservations', {
      user: buyer.user,
      queueToken: buyer.queueToken,
      body: { concertId, date, seatNumber },
    });
  }

  async pay(buyer: { user: User; queueToken: string }, reservationId: string, key?: string) {
    return this.call('POST', '/api/v1/payments', {
      user: buyer.user,
      queueToken: buyer.queueToken,
      body: { reservationId },
      ...(key ? { headers: { 'idempotency-key': key } } : {}),
    });
  }
}

export interface ServiceOptions {
  env?: Record<string, string>;
  backgroundJobs?: boolean;
  /** When the queue's per-turn batches leave; a test that counts store calls holds them. */
  turnScheduler?: TurnScheduler;
}

/**
 * Wires a suite to a backend: one database for the file (opening one is the slow part),
 * emptied before each test, and a fresh app and queue store per test.
 */
export function useService(backend: Backend, options: ServiceOptions = {}): () => TestContext {
  let database: Database;
  let context: TestContext | undefined;
  let dispose: () => Promise<void> = async () => {};

  // Opening (and migrating) a database is the slow part: room for a busy 2-core CI machine.
  beforeAll(async () => {
    database = await backend.openDatabase();
  }, 180_000);
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await resetDatabase(database);
    const config = testConfig({
      QUEUE_ADMIT_PER_SECOND: '1000',
      QUEUE_MAX_ACTIVE: '1000',
      ...options.env,
    });
    const clock = new ManualClock();
    const store = await openQueueStore(backend, config);
    dispose = () => store.dispose();
    const app = await startApp({
      config,
      database,
      queueStore: store,
      clock,
      backgroundJobs: options.backgroundJobs ?? false,
      ...(options.turnScheduler ? { turnScheduler: options.turnScheduler } : {}),
    });
    context = new TestContext(app, clock, store, config, database);
  });
  afterEach(async () => {
    await context?.app.close();
    await dispose();
    context = undefined;
  });
  return () => {
    if (!context) throw new Error('the service is only there inside a test');
    return context;
  };
}
