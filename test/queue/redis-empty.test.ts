import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../../harness/stores.js';
import { eventually } from '../../harness/wait.js';
import { openDatabase } from '../../src/db/client.js';
import { AdmissionTicker } from '../../src/queue/admission-ticker.js';
import type { QueueSettings, QueueTimings } from '../../src/queue/queue-store.js';
import { RedisQueueStore } from '../../src/queue/redis-queue-store.js';
import { connectRedis } from '../../src/redis/connection.js';
import { type Clock, ManualClock } from '../../src/shared/clock.js';
import { startApp, testConfig } from '../helpers/app.js';

/**
 * A Redis that comes back empty (FLUSHALL here; a failover to an empty replica alike), on a
 * redis-server of this test's own: the store notices, old tokens read EXPIRED and lost, no
 * ticket number is reused, and the line never runs on default settings.
 */

const T0 = 1_700_000_000_000;
const TIMINGS: QueueTimings = { activeTtlMs: 600_000, idleTimeoutMs: 3_600_000 };
const DEFAULTS: QueueSettings = { maxActive: 100, admitPerSecond: 100, paused: false };
const CONCERT = 'c0ffee00-0000-4000-8000-00000000e001';

describe('a Redis that comes back empty', () => {
  let server: RedisServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = connectRedis(server.url) as Redis;
    await new Promise((resolve) => redis.once('ready', resolve));
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('when Redis is flushed mid-sale, then the loss is counted, old tokens read EXPIRED lost, numbers go on above, and the sale stays paused', async () => {
    let now = T0;
    const clock: Clock = { now: () => now };
    const store = new RedisQueueStore(redis, TIMINGS, DEFAULTS);
    const errors: unknown[] = [];
    const log = { error: (...args: unknown[]) => errors.push(args), warn: () => {} } as never;
    // The operator's settings as their source (PostgreSQL) has them: one at a time.
    let source: QueueSettings = { maxActive: 1, admitPerSecond: 10, paused: false };
    let losses = 0;
    const ticker = new AdmissionTicker(store, clock, log, async () => source, { onLoss: () => losses++ });

    const alice = await store.join(CONCERT, 'alice', now);
    const bob = await store.join(CONCERT, 'bob', now);
    await ticker.tick();
    expect(await store.view(CONCERT, alice.ticket, now, true, 'alice')).toMatchObject({ state: 'ACTIVE' });
    expect(store.losses()).toEqual({ count: 0, lastAt: null });

    // The operator pauses the sale (the source has it), then Redis loses everything.
    source = { ...source, paused: true };
    await store.updateSettings(CONCERT, { paused: true });
    await redis.flushall();
    now += 1_000;

    await ticker.tick();
    expect(store.losses()).toEqual({ count: 1, lastAt: now });
    expect(losses).toBe(1);
    expect(errors).toHaveLength(1);
    // Both read EXPIRED, marked lost: bob must rejoin; alice may still pay for a seat she holds.
    expect(await store.view(CONCERT, alice.ticket, now, true, 'alice')).toEqual({
      state: 'EXPIRED',
      lost: true,
    });
    expect(await store.view(CONCERT, bob.ticket, now, true, 'bob')).toEqual({ state: 'EXPIRED', lost: true });

    // New joins are numbered above every old ticket: an old token never names a new ticket.
    const carol = await store.join(CONCERT, 'carol', now);
    const bobAgain = await store.join(CONCERT, 'bob', now);
    expect(carol).toMatchObject({ created: true, started: true });
    expect(carol.ticket).toBeGreaterThan(Math.max(alice.ticket, bob.ticket));
    expect(await store.view(CONCERT, bob.ticket, now, true, 'bob')).toEqual({ state: 'EXPIRED', lost: true });

    // Admission waits for the settings, which come back from the source: still paused.
    await ticker.tick();
    expect(await store.getSettings(CONCERT)).toEqual({ maxActive: 1, admitPerSecond: 10, paused: true });
    expect(await store.counts(CONCERT, now)).toEqual({ waiting: 2, active: 0 });
    expect(await store.view(CONCERT, bobAgain.ticket, now, true, 'bob')).toMatchObject({
      state: 'WAITING',
      position: 2,
    });

    // Noticed once: the marker is back, so the next tick counts nothing new.
    await ticker.tick();
    expect(store.losses().count).toBe(1);

    await store.updateSettings(CONCERT, { paused: false });
    await ticker.tick();
    expect(await store.view(CONCERT, carol.ticket, now, true, 'carol')).toMatchObject({ state: 'ACTIVE' });
  });

  it('when Redis is flushed under a running instance, then /health/ready and /metrics show the loss and an old token reads EXPIRED', async () => {
    const adminKey = 'redis-empty-admin-key';
    const config = testConfig({ ADMIN_KEY: adminKey });
    const database = await openDatabase({ url: undefined, dataDir: 'memory' });
    const clock = new ManualClock();
    const store = new RedisQueueStore(redis, TIMINGS, DEFAULTS, {
      prefix: `bo-empty-${randomBytes(4).toString('hex')}:`,
    });
    const app = await startApp({ config, database, queueStore: store, clock, backgroundJobs: true });
    try {
      const ready = async () => (await app.inject({ method: 'GET', url: '/health/ready' })).json();
      const concert = await app.inject({
        method: 'POST',
        url: '/api/v1/admin/concerts',
        headers: { 'admin-key': adminKey },
        payload: { title: 'Empty', venue: 'Hall', dates: [{ date: '2027-01-10', price: 1000 }] },
      });
      const { concertId } = concert.json();
      const user = (await app.inject({ method: 'POST', url: '/api/v1/users', payload: {} })).json();
      const join = () =>
        app.inject({
          method: 'POST',
          url: '/api/v1/queue/tokens',
          headers: { authorization: `Bearer ${user.accessToken}` },
          payload: { concertId },
        });
      const first = (await join()).json();
      await eventually(async () => (await store.registeredLines()).length === 1, {
        what: 'the line registered',
      });
      await store.checkForLoss(0); // the ticker has looked at least once before the loss
      expect(await ready()).toMatchObject({ status: 'ready', queueDataLosses: 0, queueDataLostAt: null });

      await redis.flushall();
      clock.advance(1_000); // numbering restarts from the clock: a later one, as real time is
      await eventually(async () => (await ready()).queueDataLosses === 1, { what: 'the loss noticed' });
      expect(await ready()).toMatchObject({ status: 'ready', queueDataLosses: 1 });
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/^boxoffice_queue_data_losses_total 1$/m);

      const status = await app.inject({
        method: 'GET',
        url: '/api/v1/queue/status',
        headers: { 'queue-token': first.token },
      });
      expect(status.json()).toMatchObject({ status: 'EXPIRED' });
      const again = await join();
      expect(again.statusCode).toBe(201);
      expect(again.json().token).not.toBe(first.token);
    } finally {
      await app.close();
      await database.close();
    }
  }, 90_000); // an embedded database and a whole app: slow on a busy machine
});
