import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis as SingleRedis } from 'ioredis';
import pino from 'pino';
import { buildApp } from './app.js';
import { resolveSecret } from './auth/secret.js';
import { ConcertsService } from './concerts/concerts.service.js';
import { seedDemo } from './concerts/demo-seed.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { type Database, openDatabase } from './db/client.js';
import { drainOnShutdown } from './lifecycle/drain.js';
import { closeServer, listenStandIn } from './lifecycle/stand-in.js';
import { MemoryQueueStore } from './queue/memory-queue-store.js';
import { queueOptions } from './queue/queue-options.js';
import type { QueueStore } from './queue/queue-store.js';
import type { RedisClient as Redis } from './redis/connection.js';
import { connectRedis } from './redis/connection.js';
import { type Clock, type ClockSample, SharedClock, sampleClock, systemClock } from './shared/clock.js';

/**
 * The only file that listens. Starts the stores, the clock and the app, and shuts all of it
 * down cleanly.
 *
 * Start-up survives stores that are not there yet: the port is taken at once by a stand-in
 * (lifecycle/stand-in.ts: live, not ready) while each store is retried with back-off and a log
 * line per attempt; once all are up, the app takes over the port. Shutdown on SIGTERM/SIGINT
 * (lifecycle/drain.ts): new requests get 503 at once, those already accepted are answered,
 * then the stores are let go.
 */

/** Longest pause between two attempts to reach a store at start-up. */
const MAX_BACKOFF_MS = 5_000;
/**
 * Shutdown keeps the port at least this long, answering 503 to anything new, so that a load
 * balancer (or a client) learns to go elsewhere before connections are refused...
 */
const DRAIN_MIN_MS = 1_000;
/** ...and at most this long waiting for the requests it had accepted, before closing anyway. */
const DRAIN_MAX_MS = 5_000;
/** Hard stop: a shutdown that has not finished by then exits anyway. */
const FORCE_EXIT_MS = 15_000;

class Stopping extends Error {}

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
  // First: a secret file that cannot be used stops start-up before anything is opened.
  const secret = resolveSecret(config.authSecret, config.dataDir);

  // Everything opened so far, let go of in reverse on the way out.
  const opened: { name: string; close: () => Promise<void> }[] = [];
  let stopping: string | undefined;
  let stop: (signal: string) => Promise<void> = async (signal) => {
    stopping = signal;
  };
  let signalled = false;
  const onSignal = (signal: string) => {
    if (signalled) return;
    signalled = true;
    const force = setTimeout(() => process.exit(1), FORCE_EXIT_MS);
    force.unref();
    void stop(signal).finally(async () => {
      for (const { name, close } of opened.reverse()) {
        await close().catch((error) => log.warn({ err: error }, `closing ${name} failed`));
      }
      process.exit(0);
    });
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));

  /** Runs `attempt` until it succeeds, pausing longer each time (up to MAX_BACKOFF_MS). */
  const persist = async <T>(what: string, attempt: () => Promise<T>): Promise<T> => {
    for (let n = 1; ; n++) {
      if (stopping) throw new Stopping();
      try {
        return await attempt();
      } catch (error) {
        if (stopping) throw new Stopping();
        const pause = Math.min(MAX_BACKOFF_MS, 250 * 2 ** (n - 1));
        log.warn(
          { attempt: n, code: (error as { code?: unknown }).code },
          `${what} not reachable (${(error as Error).message}); retrying in ${pause} ms`,
        );
        await delay(pause);
      }
    }
  };

  const standIn = await listenStandIn(config);
  const port = (standIn.address() as AddressInfo).port;
  stop = async (signal) => {
    stopping = signal;
    log.info(`${signal} while starting: stopping`);
    await closeServer(standIn);
  };
  log.info(`starting on port ${port}: /health/live answers, /health/ready is 503 until the stores are up`);

  try {
    const database = await persist(config.databaseUrl ? 'PostgreSQL' : 'the embedded database', () =>
      openDatabase({
        url: config.databaseUrl,
        dataDir: config.dataDir,
        poolSize: config.dbPoolSize,
        statementTimeoutMs: config.dbStatementTimeoutMs,
        maxWaiting: config.dbPoolMaxWaiting,
        onError: (error) => log.warn({ err: error }, 'database connection lost'),
        // Effects record their webhook events only when there is a receiver to deliver them to.
        recordEvents: Boolean(config.webhookUrl),
      }),
    );
    opened.push({ name: 'the database', close: () => database.close() });
    const redis = config.redisUrl
      ? await persist('Redis', () =>
          connectReadyRedis(config.redisUrl!, log, config.redisCluster, config.redisCommandTimeoutMs),
        )
      : undefined;
    if (redis) opened.push({ name: 'Redis', close: async () => redis.disconnect() });
    const store = await openQueueStore(config, redis);
    opened.push({ name: 'the queue store', close: () => store.close() });
    const clock = await persist('the reference clock', () => productionClock(config, database, redis, log));
    if (clock instanceof SharedClock) opened.push({ name: 'the clock', close: async () => clock.stop() });

    if (config.seedDemo) {
      const seeded = await persist('PostgreSQL (demo seed)', () =>
        seedDemo(new ConcertsService(database.db), clock.now()),
      );
      if (seeded) log.info('created the demo concerts (the hall and the arena)');
    }

    const app = await buildApp({
      config,
      database,
      queueStore: store,
      secret,
      clock,
      logger: log,
      // Rate budgets and seat versions share the queue's connection. On a Redis Cluster
      // (REDIS_CLUSTER) it is a Cluster client, which routes their commands by key.
      ...(redis ? { redis: redis as SingleRedis } : {}),
    });
    const drain = drainOnShutdown(app);
    if (stopping) throw new Stopping();
    // The stand-in lets go of the port and the app takes it (a moment of refused connections).
    await closeServer(standIn);
    const address = await app.listen({ port, host: config.host });
    stop = async (signal) => {
      log.info(`${signal}: refusing new requests, answering those already accepted`);
      await drain(DRAIN_MIN_MS, DRAIN_MAX_MS);
      await app.close();
    };
    const where = config.databaseUrl ? 'PostgreSQL server' : `embedded PostgreSQL in ${config.dataDir}`;
    log.info(
      `boxoffice ready in ${Date.now() - started} ms on ${where}, queue ${config.redisUrl ? 'in Redis' : 'in process'}`,
    );
    log.info(`API docs: ${address}/docs  web app: ${address}/`);
  } catch (error) {
    // A signal during start-up: onSignal closes what was opened and exits.
    if (error instanceof Stopping) return;
    throw error;
  }
}

/**
 * A Redis connection once it is ready, or an error within its connect timeout (the caller
 * retries). Commands are refused until connected (no offline queue), hence the wait.
 */
async function connectReadyRedis(
  url: string,
  log: pino.Logger,
  cluster: boolean,
  commandTimeoutMs: number,
): Promise<Redis> {
  // Until ready, the first failure ends this attempt (the caller logs it and retries later);
  // once ready, every error is logged and the client reconnects by itself.
  let ready = false;
  let failed: ((error: Error) => void) | undefined;
  const redis = connectRedis(
    url,
    (error) => {
      if (ready) log.warn({ err: error }, 'redis error');
      else failed?.(error);
    },
    cluster,
    commandTimeoutMs,
  );
  try {
    await new Promise<void>((resolve, reject) => {
      failed = reject;
      redis.once('ready', resolve);
      setTimeout(() => reject(new Error(`Redis at ${url} not ready in time`)), 2_500).unref();
    });
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  ready = true;
  return redis;
}

/** The queue store for this configuration: in Redis when there is one, else in process. */
async function openQueueStore(config: Readonly<Config>, redis: Redis | undefined): Promise<QueueStore> {
  const { timings, defaults } = queueOptions(config);
  if (!redis) return new MemoryQueueStore(timings, defaults);
  const { RedisQueueStore } = await import('./queue/redis-queue-store.js');
  // WAIT must end before the command timeout would fail it (a 503 for a write that was made).
  const replicaWaitMs = Math.min(config.redisReplicaWaitMs, Math.floor(config.redisCommandTimeoutMs / 2));
  return new RedisQueueStore(redis, timings, defaults, { replicaWaitMs });
}

/**
 * The one clock every shared decision reads (holds, lapses, payments and the sweeper in
 * PostgreSQL; admission, active windows and idle drops in Redis, through the `now` the
 * scripts receive): the PostgreSQL server's time when there is a server, else Redis's `TIME`,
 * else (one process, nothing shared) this process's clock. See SharedClock.
 */
async function productionClock(
  config: Readonly<Config>,
  database: Database,
  redis: Redis | undefined,
  log: pino.Logger,
): Promise<Clock> {
  let sample: () => Promise<ClockSample>;
  if (config.databaseUrl) sample = () => database.sampleClock();
  else if (redis)
    sample = () =>
      sampleClock(async () => {
        const [seconds, micros] = await redis.time();
        return Number(seconds) * 1000 + Number(micros) / 1000;
      });
  else return systemClock;
  const clock = await SharedClock.start({
    sample,
    onError: (error) => log.warn({ err: error }, 'clock refresh failed; keeping the last offset'),
  });
  log.info(
    `clock: ${config.databaseUrl ? 'PostgreSQL' : 'Redis'} time, ${clock.now() - Date.now()} ms from this host's clock (±${clock.uncertaintyMs().toFixed(1)} ms)`,
  );
  return clock;
}

main().catch((error) => {
  // A refused setting or secret file says what to fix, without a stack.
  if (error instanceof ConfigError) console.error(`boxoffice: ${error.message}`);
  else console.error('boxoffice failed to start:', error);
  process.exit(1);
});
