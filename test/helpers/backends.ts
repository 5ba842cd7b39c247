import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { createScratchDatabase } from '../../harness/cluster.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { MemoryQueueStore } from '../../src/queue/memory-queue-store.js';
import type { QueueSettings, QueueStore, QueueTimings } from '../../src/queue/queue-store.js';
import { connectRedis } from '../../src/redis/connection.js';

/**
 * Where a suite can run. The embedded database and the in-process queue are always there;
 * the PostgreSQL server and Redis join when TEST_DATABASE_URL / TEST_REDIS_URL are set (CI
 * sets both), so every suite runs against every implementation that is available.
 */
export interface Backend {
  name: string;
  openDatabase(): Promise<Database>;
  openQueueStore(
    timings: QueueTimings,
    defaults: QueueSettings,
  ): Promise<QueueStore & { dispose(): Promise<void> }>;
}

const embedded: Backend = {
  name: 'embedded PGlite + in-process queue',
  openDatabase: () => openDatabase({ url: undefined, dataDir: 'memory' }),
  async openQueueStore(timings, defaults) {
    return Object.assign(new MemoryQueueStore(timings, defaults), { dispose: async () => {} });
  },
};

function serverBackend(databaseUrl: string, redisUrl: string): Backend {
  return {
    name: 'PostgreSQL server + Redis queue',
    openDatabase: () => openScratchDatabase(databaseUrl),
    async openQueueStore(timings, defaults) {
      const { RedisQueueStore } = await import('../../src/queue/redis-queue-store.js');
      const redis = await readyRedis(redisUrl);
      // Isolated by a random prefix rather than by wiping Redis (as BullMQ's tests do).
      const store = new RedisQueueStore(redis, timings, defaults, {
        prefix: `bo-test-${randomBytes(4).toString('hex')}:`,
      });
      return Object.assign(store, {
        dispose: async () => {
          await store.close();
          redis.disconnect();
        },
      });
    },
  };
}

/** A connection made as the server makes it, once it is ready. */
export async function readyRedis(url: string) {
  const redis = connectRedis(url);
  await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}

/** A fresh database on the server per test file (harness/cluster.ts), dropped when the file is done. */
export async function openScratchDatabase(
  url: string,
  connectThrough?: (url: URL) => URL,
): Promise<Database> {
  const scratch = await createScratchDatabase(url, 'bo_test_');
  let target = new URL(scratch.url);
  if (connectThrough) target = connectThrough(target);
  const database = await openDatabase({ url: target.toString(), dataDir: 'memory', poolSize: 20 });
  return {
    ...database,
    async close() {
      await database.close();
      await scratch.drop();
    },
  };
}

export const serverUrls = {
  database: process.env.TEST_DATABASE_URL,
  redis: process.env.TEST_REDIS_URL,
};

export const backends: Backend[] = [embedded];
if (serverUrls.database && serverUrls.redis)
  backends.push(serverBackend(serverUrls.database, serverUrls.redis));

let warned = false;
/** Says once per file which implementations are skipped, and why. */
export function announceSkips(suite: string): void {
  if (warned || backends.length > 1) return;
  warned = true;
  console.warn(
    `[${suite}] skipped: PostgreSQL server + Redis queue — set TEST_DATABASE_URL and TEST_REDIS_URL to run it (CI does)`,
  );
}

const TABLES = [
  'idempotency_keys',
  'payments',
  'wallet_transactions',
  'wallets',
  'reservations',
  'seats',
  'shows',
  'concerts',
  'users',
];

/** Empties every table between tests; far cheaper than a new database. */
export async function resetDatabase(database: Database): Promise<void> {
  await database.db.execute(sql.raw(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY CASCADE`));
}
