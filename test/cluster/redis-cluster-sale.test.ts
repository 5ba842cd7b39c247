import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../harness/cluster.js';
import { ClusterClient } from '../../harness/http.js';
import { checkSale } from '../../harness/invariants.js';
import { runSale } from '../../harness/sale.js';
import { startService } from '../../harness/service.js';
import { startRedisCluster } from '../../harness/stores.js';
import { connectRedis } from '../../src/redis/connection.js';
import { lineKeys } from '../../src/redis/keys.js';
import { adminUrl, requireServers, serversReady } from './support.js';

/**
 * Two real instances on a Redis Cluster of three masters of this test's own (REDIS_CLUSTER=
 * true, REDIS_URL naming one node): three concerts sell out at once, their lines spread over
 * the shards, and every invariant of the cluster test holds for each.
 */

requireServers('redis cluster sale');

const CONCERTS = 3;
const USERS = 120;
const SEATS = 20;
const SERVER_SETTINGS = {
  QUEUE_MAX_ACTIVE: 20,
  QUEUE_ADMIT_PER_SECOND: 100,
  QUEUE_ACTIVE_TTL_SECONDS: 20,
  HOLD_TTL_SECONDS: 10,
  QUEUE_IDLE_TIMEOUT_SECONDS: 30,
};

const cleanups: (() => Promise<void>)[] = [];

describe.skipIf(!serversReady)('Redis Cluster: three masters, two instances, three concerts at once', () => {
  beforeAll(async () => {
    await buildServer();
  }, 120_000);
  afterAll(async () => {
    while (cleanups.length > 0)
      await cleanups.pop()!().catch((error) => console.warn('[redis cluster sale]', error));
  }, 60_000);

  it('when three concerts sell out at once with their lines spread over the shards, then every guarantee holds for each', async () => {
    const redis = await startRedisCluster(3);
    cleanups.push(() => redis.stop());
    const { cluster, adminKey, authSecret, databaseUrl, stop } = await startService({
      mode: 'servers',
      instances: 2,
      scratchDatabase: { adminUrl: adminUrl! },
      redisUrl: redis.nodes[0]!.url,
      redisCluster: true,
      settings: SERVER_SETTINGS,
    });
    cleanups.push(stop);
    const client = new ClusterClient({ targets: cluster.urls, maxInFlight: 150 });
    cleanups.push(() => client.close());

    const activeTtlMs = SERVER_SETTINGS.QUEUE_ACTIVE_TTL_SECONDS * 1000;
    const sales = await Promise.all(
      Array.from({ length: CONCERTS }, (_, i) =>
        runSale({
          client,
          adminKey,
          authSecret,
          users: USERS,
          seatsPerDate: SEATS,
          activeTtlMs,
          timeLimitMs: 60_000,
          runId: `shard-${i}`,
        }),
      ),
    );
    for (const sale of sales) {
      const report = await checkSale({
        sale,
        client,
        adminKey,
        databaseUrl,
        maxActive: SERVER_SETTINGS.QUEUE_MAX_ACTIVE,
        activeTtlMs,
        apiUsers: 40,
      });
      expect(report.violations, sale.concertId).toEqual([]);
      expect(sale.sold).toBe(SEATS);
    }

    // Where the lines were (random concert ids: usually on two or three masters; the contract
    // suite on the cluster proves several shards with twelve lines).
    const probe = connectRedis(redis.nodes[0]!.url, () => {}, true);
    cleanups.push(async () => probe.disconnect());
    await new Promise((resolve) => probe.once('ready', resolve));
    const masters = new Set<string>();
    for (const sale of sales) {
      const slot = Number(await probe.call('CLUSTER', 'KEYSLOT', lineKeys('bo:', sale.concertId).meta));
      const owner = (probe as unknown as { slots: string[][] }).slots[slot]?.[0];
      if (owner) masters.add(owner);
    }
    console.log(`[redis cluster sale] ${CONCERTS} lines on ${masters.size} of 3 masters`);
    expect(masters.size).toBeGreaterThan(0);
  }, 180_000);
});
