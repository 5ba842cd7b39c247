import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { QueueSettings, QueueTimings } from '../../src/queue/queue-store.js';
import {
  REREGISTER_MS,
  RedisQueueStore,
  type RedisQueueStoreOptions,
} from '../../src/queue/redis-queue-store.js';
import { lineKeys, registryKey } from '../../src/redis/keys.js';
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
    const settings = { ...DEFAULTS, ...defaults };
    const store = new RedisQueueStore(redis, TIMINGS, settings, { ...options, prefix });
    return {
      store,
      prefix,
      keys: lineKeys(prefix, CONCERT),
      /** What the first join or the admission ticker does for a new line. */
      restore: () => store.restoreSettings(CONCERT, settings),
    };
  };
  const admitted = async (store: RedisQueueStore, now: number) =>
    (await store.advance(CONCERT, now)).admitted;

  /** The keys under a prefix, by SCAN (never KEYS on a Redis others share). */
  const keysUnder = async (prefix: string) => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return found;
  };

  it('when the registry cannot be written after a ticket was taken, then that join fails, and a later join behind it registers the line anyway', async () => {
    const { store, prefix, restore } = setup();
    await restore();
    // The registry's shard refuses writes: a key of the wrong type is a real Redis error.
    await redis.set(registryKey(prefix), 'not a sorted set');
    await expect(store.join(CONCERT, 'alice', T0)).rejects.toThrow(/WRONGTYPE/);
    await redis.del(registryKey(prefix));
    // Alice's ticket was taken; a join behind her has somebody ahead and skips the registry...
    const registered = async () => (await store.concertIds()).includes(CONCERT);
    await new Promise((resolve) => setTimeout(resolve, REREGISTER_MS + 100));
    // ...except when this instance has not registered the line for REREGISTER_MS.
    expect((await store.join(CONCERT, 'bob', T0 + 1)).view).toMatchObject({ state: 'WAITING', position: 2 });
    expect(await registered()).toBe(true);
    expect(await admitted(store, T0 + 2)).toBe(2);
  });

  it('when a line is used, then every key of the concert carries its hash tag, and only the registry and marker do not', async () => {
    const { store, prefix, keys, restore } = setup({}, { maxActive: 1 });
    await restore();
    await store.join(CONCERT, 'alice', T0);
    await store.join(CONCERT, 'bob', T0);
    await store.advance(CONCERT, T0);
    await store.updateSettings(CONCERT, { paused: true });
    await store.checkForLoss(T0);
    const written = await keysUnder(prefix);
    const tagged = written.filter((key) => key.startsWith(`${prefix}{${CONCERT}}:`));
    expect(written.filter((key) => !tagged.includes(key)).sort()).toEqual([
      registryKey(prefix),
      `${prefix}marker`,
    ]);
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

  it('when tickets leave, lapse or go idle, then nothing of them stays behind but the counters and settings', async () => {
    const { store, keys, prefix, restore } = setup({}, { maxActive: 2 });
    await restore();
    const tickets: number[] = [];
    for (const user of ['alice', 'bob', 'carol', 'dave'])
      tickets.push((await store.join(CONCERT, user, T0)).ticket);
    await store.advance(CONCERT, T0); // alice and bob ACTIVE
    await store.leave(CONCERT, tickets[1]!, T0 + 1); // bob gives his slot back
    await store.leave(CONCERT, tickets[2]!, T0 + 1); // carol leaves the line
    // alice lapses and dave goes idle; one step sweeps both.
    const later = T0 + TIMINGS.activeTtlMs;
    await store.advance(CONCERT, later);
    expect(await store.counts(CONCERT, later)).toEqual({ waiting: 0, active: 0 });
    for (const key of [keys.waiting, keys.seen, keys.active, keys.users, keys.owners, keys.admitted]) {
      expect(await redis.exists(key), key).toBe(0);
    }
    expect((await keysUnder(prefix)).sort()).toEqual([registryKey(prefix), keys.meta, keys.settings].sort());
  });

  it('when more idle tickets wait than one step may touch, then each step is bounded and no idle ticket is admitted', async () => {
    // 64 slots per block: one block per step with maxBatch 64.
    const { store, restore } = setup({ maxBatch: 64 });
    await restore();
    for (let i = 1; i <= 130; i++) await store.join(CONCERT, `idle-${i}`, T0);
    const live = await store.join(CONCERT, 'live', T0 + TIMINGS.idleTimeoutMs - 1);
    const now = T0 + TIMINGS.idleTimeoutMs;

    // The sweep empties one block (64), the admission loop meets 64 more idle at the front and stops.
    expect(await admitted(store, now)).toBe(0);
    expect(await store.counts(CONCERT, now)).toEqual({ waiting: 3, active: 0 });
    expect(await admitted(store, now)).toBe(1);
    expect(await store.counts(CONCERT, now)).toEqual({ waiting: 0, active: 1 });
    expect((await store.view(CONCERT, live.ticket, now, false)).state).toBe('ACTIVE');
  });

  it('when everyone keeps polling, then the idle sweep looks into no block; an idle one in the middle is found', async () => {
    const { store, keys, restore } = setup({}, { paused: true });
    await restore();
    const tickets: number[] = [];
    for (let i = 0; i < 200; i++) tickets.push((await store.join(CONCERT, `user-${i}`, T0)).ticket);
    const half = T0 + TIMINGS.idleTimeoutMs / 2;
    // Everyone but user-100 polls half-way through.
    for (let i = 0; i < 200; i++) if (i !== 100) await store.view(CONCERT, tickets[i]!, half, true);
    await store.advance(CONCERT, half);
    const now = T0 + TIMINGS.idleTimeoutMs;
    await store.advance(CONCERT, now);
    expect(await store.counts(CONCERT, now)).toEqual({ waiting: 199, active: 0 });
    // Each block now carries its true oldest sign of life (half-way): nothing left to look into.
    expect(await redis.zrangebyscore(keys.seenBlocks, '-inf', now - TIMINGS.idleTimeoutMs)).toEqual([]);
    expect(await redis.zscore(keys.seenBlocks, '0')).toBe(String(half));
    expect(await redis.zcard(keys.seenBlocks)).toBe(4);
    expect(await store.view(CONCERT, tickets[101]!, now, false)).toMatchObject({
      state: 'WAITING',
      position: 101,
    });
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
    expect((await second.store.join(CONCERT, 'bob', T0)).ticket).toBe(T0 * 1000 + 1);
    expect(await first.store.concertIds()).toEqual([CONCERT]);
  });

  it('when the connection speaks RESP2, then replies decode the same', async () => {
    const resp2 = connect(target, { protocol: 2 });
    const prefix = randomPrefix();
    prefixes.push(prefix);
    try {
      const store = new RedisQueueStore(resp2, TIMINGS, DEFAULTS, { prefix });
      await store.restoreSettings(CONCERT, DEFAULTS);
      const joined = await store.join(CONCERT, 'alice', T0);
      expect(joined.view).toMatchObject({ state: 'WAITING', position: 1 });
      expect(await store.advance(CONCERT, T0)).toEqual({
        admitted: 1,
        settingsMissing: false,
        live: true,
        lost: false,
      });
      expect(await store.view(CONCERT, joined.ticket, T0, true)).toEqual({
        state: 'ACTIVE',
        activeUntil: T0 + TIMINGS.activeTtlMs,
      });
      expect(await store.updateSettings(CONCERT, { paused: true })).toEqual({ ...DEFAULTS, paused: true });
      expect(await store.counts(CONCERT, T0)).toEqual({ waiting: 0, active: 1 });
      expect(await store.registeredLines()).toEqual([{ concertId: CONCERT, lastJoin: T0 }]);
    } finally {
      await resp2.quit();
    }
  });

  it('when users with UUIDs wait, then each costs one sorted-set entry keyed by its 16 bytes and six bytes of last-seen', async () => {
    const { store, keys, restore } = setup({}, { paused: true });
    await restore();
    const users = Array.from({ length: 3 }, (_, i) => `0c0ffee0-0000-4000-8000-00000000000${i}`);
    for (const user of users) await store.join(CONCERT, user, T0);
    const members = await redis.zrangeBuffer(keys.waiting, '0', '-1');
    expect(members.map((m) => m.length)).toEqual([16, 16, 16]);
    expect(await redis.strlen(keys.seen)).toBe(3 * 6);
    for (const key of [keys.users, keys.owners, keys.active]) expect(await redis.exists(key), key).toBe(0);
  });

  it('when nobody waits any more, then the last-seen field is dropped and the next ticket takes its first slot', async () => {
    const { store, keys, restore } = setup();
    await restore();
    await store.join(CONCERT, 'alice', T0);
    await store.join(CONCERT, 'bob', T0);
    expect(await admitted(store, T0)).toBe(2);
    expect(await redis.exists(keys.seen)).toBe(0);
    const carol = await store.join(CONCERT, 'carol', T0 + 1);
    expect(await redis.strlen(keys.seen)).toBe(6);
    expect(carol.view).toMatchObject({ state: 'WAITING', position: 1 });
    expect((await store.view(CONCERT, carol.ticket, T0 + TIMINGS.idleTimeoutMs, false)).state).toBe(
      'WAITING',
    );
    expect((await store.view(CONCERT, carol.ticket, T0 + 1 + TIMINGS.idleTimeoutMs, false)).state).toBe(
      'EXPIRED',
    );
  });
});
