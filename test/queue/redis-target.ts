import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { serverUrls, skipWithout } from '../helpers/backends.js';

/** Long enough for a local or CI service container, short enough not to stall collection. */
const PROBE_TIMEOUT_MS = 1_000;

export interface RedisTarget {
  url: string;
  reachable: boolean;
  /** Why Redis cannot be used, when it cannot. */
  problem: string | null;
  /**
   * TEST_REDIS_URL names it: an unreachable one must fail the Redis tests rather than quietly
   * skip them (the one rule of test/helpers/backends.ts).
   */
  required: boolean;
}

let probed: Promise<RedisTarget> | undefined;

/** Whether a Redis answers at TEST_REDIS_URL; asked once per test file. */
export function redisTarget(): Promise<RedisTarget> {
  probed ??= probe();
  return probed;
}

async function probe(): Promise<RedisTarget> {
  const url = serverUrls.redis;
  if (!url) return { url: '', reachable: false, problem: 'TEST_REDIS_URL is not set', required: false };
  const required = true;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The socket's own error (ECONNREFUSED, ETIMEDOUT…) arrives as an event; the rejected
  // connect() only says the connection closed.
  let cause: Error | undefined;
  redis.on('error', (error: Error) => {
    cause ??= error;
  });
  try {
    await redis.connect();
    await redis.ping();
    return { url, reachable: true, problem: null, required };
  } catch (error) {
    const reason = (cause ?? (error as Error)).message.replace(/\.$/, '');
    return { url, reachable: false, problem: `no Redis at ${url} (${reason})`, required };
  } finally {
    redis.disconnect();
  }
}

/**
 * Whether to skip the suite, by the one rule (test/helpers/backends.ts: skipWithout). A named
 * Redis that is down is not skipped: its tests run and fail on connecting.
 */
export function shouldSkipRedis(target: RedisTarget, suite: string): boolean {
  if (target.reachable || target.required) return false;
  return skipWithout(suite, ['redis']);
}

export function connect(target: RedisTarget, options: RedisOptions = {}): Redis {
  if (!target.reachable)
    throw new Error(`Redis tests required (TEST_REDIS_URL is set) but ${target.problem}`);
  return new Redis(target.url, { maxRetriesPerRequest: 1, ...options });
}

/** A fresh key prefix per test, BullMQ style: tests never wipe a Redis they share. */
export function randomPrefix(): string {
  return `bo-test:${randomBytes(6).toString('hex')}:`;
}

/** Removes what one test wrote under its own prefix. */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}
