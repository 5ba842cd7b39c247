import { isIPv6 } from 'node:net';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { keyAttemptsPrefix, rateLimitNamespace } from '../redis/keys.js';
import { AppError } from '../shared/errors.js';
import { type AttemptBudget, MemoryAttemptBudget, RedisAttemptBudget } from './attempt-budget.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** Routes with their own, tighter budget per address instead of the general one. */
const SIGNUP_ROUTE = { method: 'POST', url: '/api/v1/users' };

/**
 * Checks the two credentials a request may carry (given by app.ts: the users' and the queue's
 * token verifiers); each returns the user it names, or null when it does not verify.
 */
export interface Identify {
  accessToken: (token: string) => string | null;
  queueToken: (token: string) => string | null;
}

export interface RateLimitOptions {
  config: Readonly<Config>;
  /** Who the client verifiably is: the user a credential names once checked, else null. */
  identify: Identify;
  /** With a Redis connection, every budget is shared by all instances. */
  redis?: Redis;
  /** Prefix of the budgets' Redis keys (tests isolate themselves with a random one). */
  prefix: string;
}

/**
 * The address a client connects from, as a budget key. An IPv6 client usually holds a whole
 * /64, so it counts as one client; otherwise rotating the last bits would give a fresh budget
 * per request.
 */
export function addressKey(ip: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4) return `a:${v4[1]}`;
  if (!isIPv6(ip)) return `a:${ip}`;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `a:${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * Who a request verifiably comes from, for its rate budget: the user its access token names,
 * else the user its queue token names, else its address. A credential is checked before it
 * names anyone (tokens are cached once verified, so a hot client costs no HMAC): a header
 * that fails verification falls back to the address and never opens a bucket of its own.
 */
export function clientKey(request: FastifyRequest, identify: Identify): string {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization.startsWith('Bearer ')) {
    const userId = identify.accessToken(authorization.slice(7).trim());
    if (userId) return `u:${userId}`;
  }
  const header = request.headers['queue-token'];
  const query = (request.query as Record<string, unknown> | undefined)?.token;
  const queueToken = typeof header === 'string' ? header : typeof query === 'string' ? query : undefined;
  if (queueToken) {
    const userId = identify.queueToken(queueToken);
    if (userId) return `u:${userId}`;
  }
  return addressKey(request.ip);
}

/**
 * Every request budget of the service: the general one per verified client, account
 * creation per address, and wrong secret keys per address (returned, for the key guards).
 * Where a store behind the limiter fails, requests go through: the limiter protects the
 * service, it must not take it down with Redis.
 */
export async function registerRateLimits(
  app: FastifyInstance,
  options: RateLimitOptions,
): Promise<AttemptBudget> {
  const { config, identify, redis, prefix } = options;
  if (config.rateLimitPerMinute > 0 || config.signupsPerMinute > 0) {
    // Registered before the plugin, so the plugin sees the budget when it sees the route.
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (
        config.signupsPerMinute > 0 &&
        route.url === SIGNUP_ROUTE.url &&
        methods.includes(SIGNUP_ROUTE.method)
      ) {
        route.config = {
          ...route.config,
          rateLimit: {
            max: config.signupsPerMinute,
            timeWindow: MINUTE_MS,
            keyGenerator: (request: FastifyRequest) => addressKey(request.ip),
          },
        } as typeof route.config;
      }
    });
    await app.register(rateLimit, {
      global: config.rateLimitPerMinute > 0,
      max: config.rateLimitPerMinute,
      timeWindow: MINUTE_MS,
      keyGenerator: (request) => clientKey(request, identify),
      // Load balancers probe health often from few addresses; the checks are coalesced and cheap.
      allowList: (request) => request.url.startsWith('/health/'),
      ...(redis ? { redis, nameSpace: rateLimitNamespace(prefix) } : {}),
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        new AppError('RATE_LIMITED', `Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s`),
    });
  }
  return redis
    ? new RedisAttemptBudget(redis, keyAttemptsPrefix(prefix), config.adminKeyFailuresPerHour, HOUR_MS)
    : new MemoryAttemptBudget(config.adminKeyFailuresPerHour, HOUR_MS);
}
