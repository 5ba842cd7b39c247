import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { MAX_AGE_MS } from '../../src/concerts/seat-read-cache.js';
import type { Database } from '../../src/db/client.js';
import { openDatabase } from '../../src/db/client.js';
import { MemoryQueueStore } from '../../src/queue/memory-queue-store.js';
import { queueOptions } from '../../src/queue/queue-options.js';
import { RedisQueueStore } from '../../src/queue/redis-queue-store.js';
import { seatVersionKey } from '../../src/redis/keys.js';
import { ManualClock } from '../../src/shared/clock.js';
import { startApp, testConfig } from '../helpers/app.js';
import {
  openScratchDatabase,
  readyRedis,
  resetDatabase,
  serverUrls,
  skipWithout,
} from '../helpers/backends.js';
import { TestContext } from '../helpers/context.js';

const HOLD_TTL_MS = 60_000;
const SEATS = 200;
const RACING_BUYERS = 100;
const READ_LOOPS = 8;

const haveServers = !skipWithout(
  'seat reads',
  ['database', 'redis'],
  'instances that share PostgreSQL and Redis',
);

type Buyer = Awaited<ReturnType<TestContext['activeBuyer']>>;

interface Service {
  /** Instances that share the database, the line and the seat versions. */
  instances: TestContext[];
  database: Database;
  /** Redis and the key prefix the instances use, when they share one. */
  redis?: { client: Redis; prefix: string };
}

/**
 * `count` app instances built as server.ts builds them, on one database per file (emptied
 * before each test): on the server backend they share PostgreSQL and Redis, line and seat
 * versions included, under a random key prefix; on the embedded one there is one instance.
 */
function useInstances(kind: 'embedded' | 'server', count: number): () => Service {
  let database: Database;
  let current: Service | undefined;
  const disposers: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    database =
      kind === 'server'
        ? await openScratchDatabase(serverUrls.database!)
        : await openDatabase({ url: undefined, dataDir: 'memory' });
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await resetDatabase(database);
    const config = testConfig({
      QUEUE_ADMIT_PER_SECOND: '1000',
      QUEUE_MAX_ACTIVE: '1000',
      HOLD_TTL_SECONDS: String(HOLD_TTL_MS / 1000),
      MAX_HOLDS_PER_USER: '10',
    });
    const timings = queueOptions(config).timings;
    const defaults = queueOptions(config).defaults;
    const clock = new ManualClock();
    const secret = randomBytes(32);
    const prefix = `bo-test-${randomBytes(4).toString('hex')}:`;
    const instances: TestContext[] = [];
    let shared: Service['redis'];
    for (let i = 0; i < count; i++) {
      let store: MemoryQueueStore | RedisQueueStore;
      let redisOptions = {};
      if (kind === 'server') {
        const redis = await readyRedis(serverUrls.redis!);
        disposers.push(() => redis.disconnect());
        store = new RedisQueueStore(redis, timings, defaults, { prefix });
        redisOptions = { redis, redisPrefix: prefix };
        shared ??= { client: redis, prefix };
      } else {
        store = new MemoryQueueStore(timings, defaults);
      }
      const app = await startApp({ config, database, queueStore: store, ...redisOptions, secret, clock });
      disposers.push(() => app.close());
      instances.push(new TestContext(app, clock, store, config, database));
    }
    current = { instances, database, ...(shared ? { redis: shared } : {}) };
  });
  afterEach(async () => {
    for (const dispose of disposers.splice(0).reverse()) await dispose();
    current = undefined;
  });
  return () => {
    if (!current) throw new Error('the service is only there inside a test');
    return current;
  };
}

const seatMapOf = (s: TestContext, buyer: Buyer, concertId: string, date: string) =>
  s.call('GET', `/api/v1/concerts/${concertId}/dates/${date}/seats`, buyer);
const datesOf = (s: TestContext, buyer: Buyer, concertId: string) =>
  s.call('GET', `/api/v1/concerts/${concertId}/dates`, buyer);

/** Marks seat 1 of the concert's first show SOLD straight in the database, announcing nothing. */
async function sellSeatUnannounced(database: Database, concertId: string): Promise<void> {
  await database.db.execute(
    sql`UPDATE seats SET sold = true WHERE seat_number = 1
        AND show_id = (SELECT id FROM shows WHERE concert_id = ${concertId} ORDER BY date LIMIT 1)`,
  );
}

const kinds: ('embedded' | 'server')[] = haveServers ? ['embedded', 'server'] : ['embedded'];

describe.each(kinds)('seat reads, one instance (%s)', (kind) => {
  const service = useInstances(kind, 1);

  test('when a buyer holds, cancels and pays, then their very next reads show each change', async () => {
    const [s] = service().instances as [TestContext];
    const { concertId, dates } = await s.newConcert({ dates: 2, seats: 10, price: 1000 });
    const buyer = await s.activeBuyer(concertId, 10_000);
    const date = dates[0]!;
    // Read both answers twice first, so what follows would be a reused answer if a change
    // were missed.
    for (let i = 0; i < 2; i++) {
      expect((await seatMapOf(s, buyer, concertId, date)).body.availableSeats).toBe(10);
      expect((await datesOf(s, buyer, concertId)).body[0]).toEqual({
        date,
        totalSeats: 10,
        availableSeats: 10,
      });
    }

    const held = await s.hold(buyer, concertId, date, 3);
    expect(held.status).toBe(201);
    let map = await seatMapOf(s, buyer, concertId, date);
    expect(map.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(map.body.seats[2]).toEqual({
      seatNumber: 3,
      section: 'A',
      row: 1,
      number: 3,
      grade: 'R',
      price: 1000,
      status: 'HELD',
    });
    expect(map.body.availableSeats).toBe(9);
    expect((await datesOf(s, buyer, concertId)).body[0].availableSeats).toBe(9);

    const cancelled = await s.call('DELETE', `/api/v1/reservations/${held.body.reservationId}`, buyer);
    expect(cancelled.status).toBe(204);
    map = await seatMapOf(s, buyer, concertId, date);
    expect(map.body.seats[2].status).toBe('AVAILABLE');
    expect((await datesOf(s, buyer, concertId)).body[0].availableSeats).toBe(10);

    const first = await s.hold(buyer, concertId, date, 4);
    expect((await s.hold(buyer, concertId, date, 5)).status).toBe(201);
    expect((await seatMapOf(s, buyer, concertId, date)).body.seats[3].status).toBe('HELD');
    const paid = await s.pay(buyer, first.body.reservationId);
    expect(paid.status).toBe(201);
    map = await seatMapOf(s, buyer, concertId, date);
    expect(map.body.seats[3].status).toBe('SOLD');
    expect(map.body.seats[4].status).toBe('HELD');
    expect(map.body.availableSeats).toBe(8);
    expect((await datesOf(s, buyer, concertId)).body[0].availableSeats).toBe(8);
    expect((await seatMapOf(s, buyer, concertId, dates[1]!)).body.availableSeats).toBe(10);
  });

  test('when a hold lapses, then it reads AVAILABLE at that instant, and its full show is back in the dates list', async () => {
    const [s] = service().instances as [TestContext];
    const { concertId, dates } = await s.newConcert({ dates: 2, seats: 1 });
    const buyer = await s.activeBuyer(concertId);
    const held = await s.hold(buyer, concertId, dates[0]!, 1);
    const expiresAt = Date.parse(held.body.holdExpiresAt);

    s.clock.set(expiresAt - 1);
    expect((await seatMapOf(s, buyer, concertId, dates[0]!)).body.seats[0].status).toBe('HELD');
    expect((await datesOf(s, buyer, concertId)).body.map((d: { date: string }) => d.date)).toEqual([
      dates[1],
    ]);

    s.clock.set(expiresAt);
    const after = await seatMapOf(s, buyer, concertId, dates[0]!);
    expect(after.body).toMatchObject({ availableSeats: 1, seats: [{ seatNumber: 1, status: 'AVAILABLE' }] });
    expect((await datesOf(s, buyer, concertId)).body).toEqual([
      { date: dates[0], totalSeats: 1, availableSeats: 1 },
      { date: dates[1], totalSeats: 1, availableSeats: 1 },
    ]);
  });

  test('when the day of a show ends, then the dates list drops it at midnight UTC', async () => {
    const [s] = service().instances as [TestContext];
    const { concertId, dates } = await s.newConcert({ dates: 2, seats: 1 });
    const midnight = Date.parse(`${dates[1]}T00:00:00.000Z`);
    s.clock.set(midnight - 10_000);
    const buyer = await s.activeBuyer(concertId);
    // Read half a second before midnight: reuse for MAX_AGE_MS alone would outlast the day.
    s.clock.set(midnight - MAX_AGE_MS / 2);
    expect((await datesOf(s, buyer, concertId)).body).toHaveLength(2);
    s.clock.set(midnight);
    expect((await datesOf(s, buyer, concertId)).body.map((d: { date: string }) => d.date)).toEqual([
      dates[1],
    ]);
  });

  test('when nothing is announced, then the answer is reused rather than read again, for at most MAX_AGE_MS', async () => {
    const { instances, database } = service();
    const s = instances[0]!;
    const { concertId, dates } = await s.newConcert({ seats: 5 });
    const buyer = await s.activeBuyer(concertId);
    expect((await seatMapOf(s, buyer, concertId, dates[0]!)).body.availableSeats).toBe(5);
    expect((await datesOf(s, buyer, concertId)).body[0].availableSeats).toBe(5);

    // As if a writer died between its commit and its announcement: readers keep the answer...
    await sellSeatUnannounced(database, concertId);
    s.clock.advance(MAX_AGE_MS - 1);
    expect((await seatMapOf(s, buyer, concertId, dates[0]!)).body.availableSeats).toBe(5);
    expect((await datesOf(s, buyer, concertId)).body[0].availableSeats).toBe(5);

    // ...until it is MAX_AGE_MS old.
    s.clock.advance(1);
    expect((await seatMapOf(s, buyer, concertId, dates[0]!)).body.availableSeats).toBe(4);
    expect((await datesOf(s, buyer, concertId)).body[0].availableSeats).toBe(4);
  });
});

describe.skipIf(!haveServers)('seat reads, two instances sharing PostgreSQL and Redis', () => {
  const service = useInstances('server', 2);

  test(`when ${RACING_BUYERS} holds on one instance race reads on the other, then every buyer's next read there shows their hold`, async () => {
    const [a, b] = service().instances as [TestContext, TestContext];
    const { concertId, dates } = await a.newConcert({ seats: SEATS });
    const date = dates[0]!;
    const buyers: Buyer[] = [];
    for (let i = 0; i < RACING_BUYERS; i++) buyers.push(await a.activeBuyer(concertId));
    const reader = buyers[0]!;
    expect((await seatMapOf(b, reader, concertId, date)).body.availableSeats).toBe(SEATS);

    // Readers on b keep its answers in use (and being re-rendered) while the holds land on a.
    let holding = true;
    let reads = 0;
    const readLoops = Array.from({ length: READ_LOOPS }, async () => {
      while (holding) {
        const [map, list] = await Promise.all([
          seatMapOf(b, reader, concertId, date),
          datesOf(b, reader, concertId),
        ]);
        expect(map.status).toBe(200);
        expect(list.status).toBe(200);
        reads++;
      }
    });
    let completed = 0;
    await Promise.all(
      buyers.map(async (buyer, i) => {
        const held = await a.hold(buyer, concertId, date, i + 1);
        expect(held.status).toBe(201);
        completed++;
        const seen = completed;
        const [map, list] = await Promise.all([
          seatMapOf(b, buyer, concertId, date),
          datesOf(b, buyer, concertId),
        ]);
        expect(map.body.seats[i].status).toBe('HELD');
        expect(map.body.availableSeats).toBeLessThanOrEqual(SEATS - seen);
        expect(list.body[0].availableSeats).toBeLessThanOrEqual(SEATS - seen);
      }),
    );
    holding = false;
    await Promise.all(readLoops);
    expect(reads).toBeGreaterThan(0);
    const final = await seatMapOf(b, reader, concertId, date);
    expect(final.body.availableSeats).toBe(SEATS - RACING_BUYERS);
  });

  test('when Redis loses the version after a change, then the other instance does not reuse its older answer', async () => {
    const { instances, redis } = service();
    const [a, b] = instances as [TestContext, TestContext];
    const { concertId, dates } = await a.newConcert({ seats: 5 });
    const buyer = await a.activeBuyer(concertId);
    expect((await seatMapOf(b, buyer, concertId, dates[0]!)).body.availableSeats).toBe(5);
    expect((await datesOf(b, buyer, concertId)).body[0].availableSeats).toBe(5);

    expect((await a.hold(buyer, concertId, dates[0]!, 2)).status).toBe(201);
    // A restart without persistence, a flush or an eviction: the version is simply gone.
    expect(await redis!.client.del(seatVersionKey(redis!.prefix, concertId))).toBe(1);

    const map = await seatMapOf(b, buyer, concertId, dates[0]!);
    expect(map.body.seats[1].status).toBe('HELD');
    expect((await datesOf(b, buyer, concertId)).body[0].availableSeats).toBe(4);
  });

  test('when a hold made on one instance lapses, then the other reads it AVAILABLE at that instant', async () => {
    const [a, b] = service().instances as [TestContext, TestContext];
    const { concertId, dates } = await a.newConcert({ seats: 3 });
    const buyer = await a.activeBuyer(concertId);
    const held = await a.hold(buyer, concertId, dates[0]!, 3);
    const expiresAt = Date.parse(held.body.holdExpiresAt);
    a.clock.set(expiresAt - 1);
    expect((await seatMapOf(b, buyer, concertId, dates[0]!)).body.seats[2].status).toBe('HELD');
    expect((await datesOf(b, buyer, concertId)).body[0].availableSeats).toBe(2);
    a.clock.set(expiresAt);
    expect((await seatMapOf(b, buyer, concertId, dates[0]!)).body.seats[2].status).toBe('AVAILABLE');
    expect((await datesOf(b, buyer, concertId)).body[0].availableSeats).toBe(3);
  });
});
