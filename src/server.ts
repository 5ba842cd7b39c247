import pino from 'pino';
import { buildApp } from './app.js';
import { resolveSecret } from './auth/secret.js';
import { ConcertsService } from './concerts/concerts.service.js';
import { seedDemo } from './concerts/demo-seed.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/client.js';
import { MemoryQueueStore } from './queue/memory-queue-store.js';
import type { QueueStore } from './queue/queue-store.js';
import { connectRedis } from './queue/redis-connection.js';

/** The only file that listens. Starts the stores, the app, and shuts all of it down cleanly. */
async function main(): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`boxoffice: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const log = pino({ level: config.logLevel });
  const started = Date.now();

  const database = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.dbPoolSize,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    onError: (error) => log.warn({ err: error }, 'database connection lost'),
  });
  const secret = resolveSecret(config.authSecret, config.dataDir);
  const queue = await openQueueStore(config, log);

  if (config.seedDemo && (await seedDemo(new ConcertsService(database.db), Date.now()))) {
    log.info('created the demo concert');
  }

  const app = await buildApp({ config, database, queueStore: queue.store, secret, logger: log });
  const address = await app.listen({ port: config.port, host: config.host });
  const where = config.databaseUrl ? 'PostgreSQL server' : `embedded PostgreSQL in ${config.dataDir}`;
  log.info(
    `boxoffice ready in ${Date.now() - started} ms on ${where}, queue ${config.redisUrl ? 'in Redis' : 'in process'}`,
  );
  log.info(`API docs: ${address}/docs  web app: ${address}/`);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info(`${signal}: closing`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    try {
      await app.close();
      await queue.close();
      await database.close();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/** The queue store for this configuration, and how to let go of what it opened. */
async function openQueueStore(
  config: Readonly<Config>,
  log: pino.Logger,
): Promise<{ store: QueueStore; close: () => Promise<void> }> {
  const timings = { activeTtlMs: config.queueActiveTtlMs, idleTimeoutMs: config.queueIdleTimeoutMs };
  const defaults = {
    maxActive: config.queueMaxActive,
    admitPerSecond: config.queueAdmitPerSecond,
    paused: false,
  };
  if (!config.redisUrl) return { store: new MemoryQueueStore(timings, defaults), close: async () => {} };
  const { RedisQueueStore } = await import('./queue/redis-queue-store.js');
  const redis = connectRedis(config.redisUrl, (error) => log.warn({ err: error }, 'redis error'));
  // Commands are refused until connected (no offline queue): wait for the first connection.
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('end', () => reject(new Error(`cannot reach Redis at ${config.redisUrl}`)));
  });
  const store = new RedisQueueStore(redis, timings, defaults);
  return {
    store,
    close: async () => {
      await store.close();
      redis.disconnect();
    },
  };
}

main().catch((error) => {
  console.error('boxoffice failed to start:', error);
  process.exit(1);
});
