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
  /** The embedded database and in-process queue, or the PostgreSQL server and Redis. */
  kind: 'embedded' | 'servers';
  openDatabase(): Promise<Database>;
  openQueueStore(
    timings: QueueTimings,
    defaults: QueueSettings,
  ): Promise<QueueStore & { dispose(): Promise<void> }>;
}

const embedded: Backend = {
  name: 'embedded PGlite + in-process queue',
  kind: 'embedded',
  openDatabase: () => openDatabase({ url: undefined, dataDir: 'memory' }),
  async openQueueStore(timings, defaults) {
    return Object.assign(new MemoryQueueStore(timings, defaults), { dispose: async () => {} });
  },
};

function serverBackend(databaseUrl: string, redisUrl: string): Backend {
  return {
    name: 'PostgreSQL server + Redis queue',
    kind: 'servers',
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

/**
 * The one rule for the server stores, for every suite: TEST_DATABASE_URL names the PostgreSQL
 * server (an admin connection that may CREATE DATABASE) and TEST_REDIS_URL the Redis; nothing
 * is probed or guessed. A suite that needs one that is not named is skipped, with one warning
 * that says what to set, except in CI, where skipping would pass silently: there it fails.
 */
export const serverUrls = {
  database: process.env.TEST_DATABASE_URL,
  redis: process.env.TEST_REDIS_URL,
};

export type ServerStore = 'database' | 'redis';

const VARIABLE: Record<ServerStore, string> = { database: 'TEST_DATABASE_URL', redis: 'TEST_REDIS_URL' };
const warnedSuites = new Set<string>();

/** Whether `suite` must be skipped here for want of `needs` (see serverUrls); `why` says what it needs them for. */
export function skipWithout(suite: string, needs: ServerStore[], why?: string): boolean {
  const missing = needs.filter((store) => !serverUrls[store]).map((store) => VARIABLE[store]);
  if (missing.length === 0) return false;
  const reason = `[${suite}] needs ${missing.join(' and ')}${why ? ` (${why})` : ''}`;
  if (process.env.CI) throw new Error(`${reason}: CI must run it`);
  if (!warnedSuites.has(suite)) {
    warnedSuites.add(suite);
    console.warn(
      `${reason}: skipped — set ${missing.length > 1 ? 'them' : 'it'} to run this suite (CI does)`,
    );
  }
  return true;
}

/** Every suite runs on each backend available: the embedded one, and the servers when both are named. */
export const backends: Backend[] = [embedded];
if (serverUrls.database && serverUrls.redis)
  backends.push(serverBackend(serverUrls.database, serverUrls.redis));

/** Says once per file that the servers backend is skipped, and why (the rule of skipWithout). */
export function announceSkips(suite: string): void {
  skipWithout(suite, ['database', 'redis'], 'the PostgreSQL server + Redis queue backend');
}

const TABLES = [
  'webhook_events',
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

/**
 * Empties, between tests, the tables that requests fill, and by CASCADE every table that
 * references them; far cheaper than a new database. The sale sampler's tables are left:
 * `sale_sampler` holds the one row a migration writes and the sampler needs, and
 * `sale_samples` / `sale_admissions` are written by the sampler only, whose suite opens a
 * database of its own.
 */
export async function resetDatabase(database: Database): Promise<void> {
  await database.db.execute(sql.raw(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY CASCADE`));
}
