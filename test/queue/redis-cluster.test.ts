import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster } from '../../harness/stores.js';
import type { QueueSettings, QueueTimings } from '../../src/queue/queue-store.js';
import { RedisQueueStore } from '../../src/queue/redis-queue-store.js';
import { connectRedis } from '../../src/redis/connection.js';
import { lineKeys } from '../../src/redis/keys.js';
import { queueStoreContract } from './queue-store.contract.js';
import { randomPrefix } from './redis-target.js';
import type { StoreHarness } from './store-harness.js';

/**
 * The queue on a Redis Cluster of three masters of this test's own (spare loopback ports, own
 * data directories), reached as the server reaches it (REDIS_CLUSTER=true): the shared
 * contract passes there, and lines of several concerts live on different shards.
 */

let cluster: Awaited<ReturnType<typeof startRedisCluster>> | undefined;
let clients: [Cluster, Cluster] | undefined;

async function connected(url: string): Promise<Cluster> {
  const client = connectRedis(url, () => {}, true) as Cluster;
  await new Promise((resolve) => client.once('ready', resolve));
  return client;
}

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  const url = cluster.nodes[0]!.url;
  clients = [await connected(url), await connected(url)];
}, 60_000);

afterAll(async () => {
  for (const client of clients ?? []) client.disconnect();
  await cluster?.stop();
});

/** Each store gets a fresh prefix; the servers are thrown away at the end, so no cleanup. */
const harness: StoreHarness = {
  name: 'redis cluster',
  skip: false,
  shared: true,
  create(timings, defaults, options = {}) {
    if (!clients) throw new Error('the cluster is not up');
    const prefix = options.prefix ?? randomPrefix();
    return {
      store: new RedisQueueStore(clients[0], timings, defaults, { ...options, prefix }),
      peer: new RedisQueueStore(clients[1], timings, defaults, { ...options, prefix }),
    };
  },
  async cleanup() {},
  async close() {},
};

describe('redis cluster queue store', () => {
  queueStoreContract(harness);

  it('when lines of many concerts fill up, then they spread over every shard and each admits on its own', async () => {
    const timings: QueueTimings = { activeTtlMs: 600_000, idleTimeoutMs: 600_000 };
    const settings: QueueSettings = { maxActive: 2, admitPerSecond: 100, paused: false };
    const { store } = harness.create(timings, settings);
    const concerts = Array.from(
      { length: 12 },
      (_, i) => `c0ffee00-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    const now = 1_700_000_000_000;
    for (const concert of concerts) {
      await store.restoreSettings(concert, settings);
      await Promise.all(['a', 'b', 'c'].map((user) => store.join(concert, `${user}-${concert}`, now)));
    }
    const admitted = await Promise.all(concerts.map(async (c) => (await store.advance(c, now)).admitted));
    expect(admitted).toEqual(concerts.map(() => 2));
    for (const concert of concerts)
      expect(await store.counts(concert, now)).toEqual({ waiting: 1, active: 2 });
    expect((await store.concertIds()).length).toBeGreaterThanOrEqual(concerts.length);

    // Which master holds each line: more than one, so scripts really ran on several shards.
    const owners = new Set<string>();
    for (const concert of concerts) {
      const slot = Number(await clients![0].call('CLUSTER', 'KEYSLOT', lineKeys('x', concert).meta));
      const node = clients![0].slots[slot]?.[0];
      if (node) owners.add(node);
    }
    expect(owners.size).toBeGreaterThan(1);
  });
});
