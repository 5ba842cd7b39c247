import { Redis } from 'ioredis';

/**
 * A Redis connection for the queue. No offline queue and one retry per command: with Redis
 * gone, a request fails at once (503 UNAVAILABLE) instead of waiting for a reconnect, and
 * the client keeps reconnecting in the background so service resumes by itself.
 */
export function connectRedis(url: string, onError: (error: Error) => void = () => {}): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    // Commands issued in the same tick leave in one write: under a rush that is hundreds of
    // status reads per write instead of one syscall each.
    enableAutoPipelining: true,
  });
  redis.on('error', onError);
  return redis;
}
