import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { QueueSettings, QueueTimings } from '../../src/queue/queue-store.js';
import { lineKeys, RedisQueueStore, type RedisQueueStoreOptions } from '../../src/queue/redis-queue-store.js';
import { connect, deleteByPrefix, randomPrefix, redisTarget, shouldSkipRedis } from './redis-target.js';

/**
 * What only the Redis store has to get right, beyond the shared contract: how it lays out
 * keys, that it cleans up after itself, and that one step's work is bounded.
 */

const target = await redisTarget();
const skip = shouldSkipRedis(target, 'redis-queue-store');

const T0 = 1_700_000_000_000;
const TIMINGS: QueueTimings = { activeTtlMs: 600_000, idleTimeoutMs: 60_000 };
const DEFAULTS: QueueSettings = { maxActive: 100, admitPerSecond: 100, paused: false };
const CONCERT = 'c0ffee00-0000-4000-8000-000000000001';

describe.skipIf(skip)('redis queue store', () => {
  let redis: Redis;
  const prefixes: string[] = [];

  beforeAll(() => {
    redis = connect(target);
  });
  afterEach(async () => {
    for (const prefix of prefixes.splice(0)) await deleteByPrefix(redis, prefix);
  });
  afterAll(async () => {
    await redis?.quit();
  });

  const setup = (options: RedisQueueStoreOptions = {}, defaults: Partial<QueueSettings> = {}) => {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const store = new RedisQueueStore(redis, TIMINGS, { ...DEFAULTS, ...defaults }, { ...options, prefix });
    return { store, prefix, keys: lineKeys(prefix, CONCERT) };
  };

  const keysUnder = (prefix: string) => redis.keys(`${prefix}*`);

  it('when a line is used, then every key of the concert carries its hash tag, and only the registry does not', async () => {
    const { store, prefix, keys } = setup({}, { maxActive: 1 });
    await store.join(CONCERT, 'alice', T0);
    await store.join(CONCERT, 'bob', T0);
    await store.advance(CONCERT, T0);
    await store.updateSettings(CONCERT, { paused: true });
    const written = await keysUnder(prefix);
    const tagged = written.filter((key) => key.startsWith(`${prefix}{${CONCERT}}:`));
    expect(written.filter((key) => !tagged.includes(key))).toEqual([`${prefix}concerts`]);
    // The scripts write no key the TypeScript helper did not name.
    expect(tagged.sort()).toEqual(Object.values(keys).sort());
  });

  it('when settings are patched, then only the patched fields are stored, paused as 0/1', async () => {
    const { store, keys } = setup();
    await store.updateSettings(CONCERT, { paused: true });
    expect(await redis.hgetall(keys.settings)).toEqual({ paused: '1' });
    await store.updateSettings(CONCERT, { paused: false, maxActive: 5 });
    expect(await redis.hgetall(keys.settings)).toEqual({ paused: '0', maxActive: '5' });
  });

  it('when tickets leave, lapse or go idle, then nothing of them stays behind but the ticket counter', async () => {
    const { store, keys, prefix } = setup({}, { maxActive: 2 });
    for (const user of ['alice', 'bob', 'carol', 'dave']) await store.join(CONCERT, user, T0);
    await store.advance(CONCERT, T0); // alice and bob ACTIVE
    await store.leave(CONCERT, 2, T0 + 1); // bob gives his slot back
    await store.leave(CONCERT, 3, T0 + 1); // carol leaves the line
    // alice lapses and dave goes idle; one step sweeps both.
    const later = T0 + TIMINGS.activeTtlMs;
    await store.advance(CONCERT, later);
    expect(await store.counts(CONCERT, later)).toEqual({ waiting: 0, active: 0 });
    for (const key of [keys.waiting, keys.seen, keys.active, keys.users, keys.owners, keys.admitted]) {
      expect(await redis.exists(key), key).toBe(0);
    }
    expect((await keysUnder(prefix)).sort()).toEqual([`${prefix}concerts`, keys.seq].sort());
  });

  it('when more idle tickets wait than one step may touch, then each step is bounded and no idle ticket is admitted', async () => {
    const { store } = setup({ maxBatch: 10 });
    for (let i = 1; i <= 25; i++) await store.join(CONCERT, `idle-${i}`, T0);
    const live = await store.join(CONCERT, 'live', T0 + TIMINGS.idleTimeoutMs - 1);
    const now = T0 + TIMINGS.idleTimeoutMs;

    // 10 dropped by the sweep, 10 more met at the front by the admission loop, then it stops.
    expect(await store.advance(CONCERT, now)).toBe(0);
    expect(await store.counts(CONCERT, now)).toEqual({ waiting: 6, active: 0 });
    expect(await store.advance(CONCERT, now)).toBe(1);
    expect(await store.counts(CONCERT, now)).toEqual({ waiting: 0, active: 1 });
    expect((await store.view(CONCERT, live.ticket, now, false)).state).toBe('ACTIVE');
  });

  it('when the store is closed, then the connection it was given stays open for its owner', async () => {
    const { store } = setup();
    await store.close();
    expect(redis.status).toBe('ready');
    expect(await redis.ping()).toBe('PONG');
  });

  it('when two stores share one connection under different prefixes, then their lines are separate', async () => {
    const first = setup();
    const second = setup();
    await first.store.join(CONCERT, 'alice', T0);
    expect((await second.store.join(CONCERT, 'bob', T0)).ticket).toBe(1);
    expect(await first.store.concertIds()).toEqual([CONCERT]);
  });

  it('when the connection speaks RESP2, then replies decode the same', async () => {
    const resp2 = connect(target, { protocol: 2 });
    const prefix = randomPrefix();
    prefixes.push(prefix);
    try {
      const store = new RedisQueueStore(resp2, TIMINGS, DEFAULTS, { prefix });
      expect((await store.join(CONCERT, 'alice', T0)).view).toMatchObject({ state: 'WAITING', position: 1 });
      expect(await store.advance(CONCERT, T0)).toBe(1);
      expect(await store.view(CONCERT, 1, T0, true)).toEqual({
        state: 'ACTIVE',
        activeUntil: T0 + TIMINGS.activeTtlMs,
      });
      expect(await store.updateSettings(CONCERT, { paused: true })).toEqual({ ...DEFAULTS, paused: true });
      expect(await store.counts(CONCERT, T0)).toEqual({ waiting: 0, active: 1 });
    } finally {
      await resp2.quit();
    }
  });
});
