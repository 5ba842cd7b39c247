import { isIPv6 } from 'node:net';

/**
 * Every setting, read from the environment once at start, validated, then frozen.
 * Nothing else in the codebase reads process.env.
 */
export interface Config {
  port: number;
  host: string;
  /** postgres://… for a PostgreSQL server; undefined: embedded PGlite. */
  databaseUrl: string | undefined;
  /** Where the embedded database and the generated secret live; 'memory' keeps nothing. */
  dataDir: string;
  redisUrl: string | undefined;
  /** REDIS_URL names one node of a Redis Cluster (the client discovers the others). */
  redisCluster: boolean;
  authSecret: string | undefined;
  adminKey: string | undefined;
  holdTtlMs: number;
  queueActiveTtlMs: number;
  queueMaxActive: number;
  queueAdmitPerSecond: number;
  queueIdleTimeoutMs: number;
  maxHoldsPerUser: number;
  /** How long before a scheduled opening the pre-queue accepts joins. */
  prequeueMs: number;
  seedDemo: boolean;
  dbPoolSize: number;
  dbStatementTimeoutMs: number;
  /**
   * Acquisitions that may wait for a pooled connection; beyond it a request gets 503 at once
   * (a thawed database meets hundreds of waiters, and a long wait list only makes all of them late).
   * A thousand: a sale's burst of holds on one instance (a thousand buyers pressing at once) waits
   * a few hundred milliseconds in that list, and is served, not shed.
   */
  dbPoolMaxWaiting: number;
  /** A Redis command not answered in this time fails (503): a frozen Redis never holds a request. */
  redisCommandTimeoutMs: number;
  /**
   * After a join, an admission or a slot given back, wait up to this long for one replica to
   * have the write (Redis WAIT 1): a failover then loses none of them (0: no wait, no replicas).
   */
  redisReplicaWaitMs: number;
  /** Event-loop delay beyond which new requests are shed with 503 (0: not checked). */
  overloadMaxEventLoopDelayMs: number;
  /** Heap used, as a percentage of the heap limit, beyond which new requests are shed (0: not checked). */
  overloadMaxHeapPercent: number;
  /** The Retry-After of a shed request. */
  overloadRetryAfterSeconds: number;
  /** Requests per minute per client (verified user, else address); 0 turns the limiter off. */
  rateLimitPerMinute: number;
  /** Accounts created per minute per address; 0 turns this budget off. */
  signupsPerMinute: number;
  /** Wrong Admin-Key (or metrics key) attempts per address per hour before 429. */
  adminKeyFailuresPerHour: number;
  /** When set, GET /metrics needs `Authorization: Bearer <METRICS_KEY>`. */
  metricsKey: string | undefined;
  /** Open event streams this instance serves at once; beyond it 503 and clients poll. */
  eventStreamsMax: number;
  /** Longest time to receive a whole request (headers and body); beyond it 408. */
  requestTimeoutMs: number;
  /** Longest time to receive a request's headers; beyond it 408. */
  headersTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests. */
  keepAliveTimeoutMs: number;
  /**
   * The proxies (addresses, CIDRs) whose X-Forwarded-For is believed; the client is the first
   * address from the right that is not one of them. false: the connection's address, always.
   */
  trustProxy: false | string[];
  logLevel: string;
  /** Share of a refunded payment that is kept (0–100). */
  refundFeePercent: number;
  /** Refunds close this long before 00:00 UTC of the show's date. */
  refundCutoffHours: number;
  /** Payments a cancelled show's refund job returns per transaction (not in API.md; for operators and tests). */
  cancelRefundBatch: number;
  /** Key the gate scanners send; undefined: check-in off. */
  gateKey: string | undefined;
  /** Ed25519 private key (PKCS#8 PEM) that signs ticket codes; undefined: one kept in the database. */
  ticketSigningKey: string | undefined;
  /** Where events are POSTed, and the secret that signs them; both or neither. */
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
  /** Sign-up (POST /users) needs a proof of work. */
  signupChallenge: boolean;
  /**
   * The work a proof-of-work challenge asks: the highest counter a solver may have to reach (each
   * step one PBKDF2 derivation of CHALLENGE_PBKDF2_ITERATIONS, see challenge/proof-of-work.ts).
   */
  challengeCost: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new ConfigError(`${name} must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Seconds, decimals allowed ("0.5") so tests can run fast; returned in milliseconds. */
function seconds(env: Env, name: string, fallback: number, maxSeconds = 86_400 * 7): number {
  const value = raw(env, name);
  if (value === undefined) return fallback * 1000;
  if (!/^\d+(\.\d+)?$/.test(value))
    throw new ConfigError(`${name} must be a number of seconds, got "${value}"`);
  const n = Number(value);
  if (n <= 0 || n > maxSeconds)
    throw new ConfigError(`${name} must be above 0 and at most ${maxSeconds}, got ${n}`);
  return Math.round(n * 1000);
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return value;
}

export const MIN_AUTH_SECRET_BYTES = 32;
export const MIN_KEY_LENGTH = 16;

/** An optional shared key (admin, metrics): unset, or at least MIN_KEY_LENGTH characters. */
function key(env: Env, name: string): string | undefined {
  const value = raw(env, name);
  if (value !== undefined && value.length < MIN_KEY_LENGTH) {
    throw new ConfigError(`${name} must be at least ${MIN_KEY_LENGTH} characters long`);
  }
  return value;
}

export const MIN_WEBHOOK_SECRET_BYTES = 32;

/**
 * CHALLENGE_COST default: the solver derives on average 3/4 of this many keys (the counter is
 * drawn from its upper half), about a second of a mid-range phone (README "Proof of work").
 */
export const DEFAULT_CHALLENGE_COST = 10_000;
/** Below this a challenge is no work at all; above it a phone would solve for minutes. */
const CHALLENGE_COST_RANGE = [10, 1_000_000] as const;

/** TICKET_SIGNING_KEY: a PKCS#8 PEM private key (the key itself is checked when it is loaded). */
function ticketSigningKey(env: Env): string | undefined {
  const value = raw(env, 'TICKET_SIGNING_KEY');
  if (value !== undefined && !value.includes('-----BEGIN PRIVATE KEY-----')) {
    throw new ConfigError('TICKET_SIGNING_KEY must be an Ed25519 private key in PKCS#8 PEM form');
  }
  return value?.replaceAll('\\n', '\n');
}

/** WEBHOOK_URL (http or https) and WEBHOOK_SECRET (at least 32 bytes) go together. */
function webhook(env: Env): { webhookUrl: string | undefined; webhookSecret: string | undefined } {
  const webhookUrl = url(env, 'WEBHOOK_URL', ['http:', 'https:']);
  const webhookSecret = raw(env, 'WEBHOOK_SECRET');
  if (webhookSecret !== undefined && Buffer.byteLength(webhookSecret, 'utf8') < MIN_WEBHOOK_SECRET_BYTES) {
    throw new ConfigError(`WEBHOOK_SECRET must be at least ${MIN_WEBHOOK_SECRET_BYTES} bytes long`);
  }
  if ((webhookUrl === undefined) !== (webhookSecret === undefined)) {
    throw new ConfigError('WEBHOOK_URL and WEBHOOK_SECRET must be set together: events are always signed');
  }
  return { webhookUrl, webhookSecret };
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * TRUST_PROXY: unset or false, or a comma-separated list of the proxies' addresses and CIDRs
 * (`127.0.0.1,10.0.0.0/8`). Never `true` (nor a /0): trusting every hop would let any client
 * name its own address in X-Forwarded-For, and with it its own rate-limit bucket.
 */
function trustProxy(env: Env): false | string[] {
  const value = raw(env, 'TRUST_PROXY');
  if (value === undefined || ['false', '0', 'no'].includes(value.toLowerCase())) return false;
  const everyHop =
    "TRUST_PROXY must list the proxies' addresses or CIDRs (e.g. TRUST_PROXY=127.0.0.1,10.0.0.0/8), not trust every hop: a client could then choose its own address, and rate-limit bucket, by sending X-Forwarded-For";
  if (['true', '1', 'yes'].includes(value.toLowerCase())) throw new ConfigError(everyHop);
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = IPV4.test(address) ? 4 : isIPv6(address) ? 6 : 0;
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !prefixOk || rest.length > 0) {
      throw new ConfigError(
        `TRUST_PROXY must be a comma-separated list of IPv4 or IPv6 addresses or CIDRs, got "${entry}"`,
      );
    }
    if (prefix !== undefined && Number(prefix) === 0) throw new ConfigError(everyHop);
  }
  return entries;
}

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:']);
  const authSecret = raw(env, 'AUTH_SECRET');
  // An HMAC key shorter than its hash's output weakens every token; a short admin key can be
  // guessed. Neither is ever accepted with a warning.
  if (authSecret !== undefined && Buffer.byteLength(authSecret, 'utf8') < MIN_AUTH_SECRET_BYTES) {
    throw new ConfigError(`AUTH_SECRET must be at least ${MIN_AUTH_SECRET_BYTES} bytes long`);
  }
  const adminKey = key(env, 'ADMIN_KEY');
  const metricsKey = key(env, 'METRICS_KEY');
  // Instances that share a database or a queue must sign tokens with one secret; a secret
  // generated per machine would make every instance reject the others' tokens.
  if (authSecret === undefined && (databaseUrl || redisUrl)) {
    throw new ConfigError(
      `AUTH_SECRET must be set when ${databaseUrl ? 'DATABASE_URL' : 'REDIS_URL'} is set: every instance must sign and check tokens with the same secret`,
    );
  }
  const host = raw(env, 'HOST') ?? '127.0.0.1';
  const rateLimitPerMinute = integer(env, 'RATE_LIMIT_PER_MINUTE', 1200, 0, 10_000_000);
  const config: Config = {
    port: integer(env, 'PORT', 3000, 0, 65_535),
    host,
    databaseUrl,
    dataDir: raw(env, 'DATA_DIR') ?? './data',
    redisUrl,
    redisCluster: boolean(env, 'REDIS_CLUSTER', false),
    authSecret,
    adminKey,
    holdTtlMs: seconds(env, 'HOLD_TTL_SECONDS', 300),
    queueActiveTtlMs: seconds(env, 'QUEUE_ACTIVE_TTL_SECONDS', 600),
    queueMaxActive: integer(env, 'QUEUE_MAX_ACTIVE', 100, 1, 1_000_000),
    queueAdmitPerSecond: integer(env, 'QUEUE_ADMIT_PER_SECOND', 20, 1, 100_000),
    queueIdleTimeoutMs: seconds(env, 'QUEUE_IDLE_TIMEOUT_SECONDS', 60),
    maxHoldsPerUser: integer(env, 'MAX_HOLDS_PER_USER', 4, 1, 50),
    prequeueMs: integer(env, 'PREQUEUE_MINUTES', 30, 1, 1440) * 60_000,
    seedDemo: boolean(env, 'SEED_DEMO', databaseUrl === undefined),
    dbPoolSize: integer(env, 'DB_POOL_SIZE', 10, 1, 1000),
    dbStatementTimeoutMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', 5000, 100, 600_000),
    dbPoolMaxWaiting: integer(env, 'DB_POOL_MAX_WAITING', 1000, 1, 100_000),
    redisCommandTimeoutMs: integer(env, 'REDIS_COMMAND_TIMEOUT_MS', 300, 10, 60_000),
    redisReplicaWaitMs: integer(env, 'REDIS_REPLICA_WAIT_MS', 0, 0, 10_000),
    overloadMaxEventLoopDelayMs: integer(env, 'OVERLOAD_MAX_EVENT_LOOP_DELAY_MS', 1000, 0, 60_000),
    overloadMaxHeapPercent: integer(env, 'OVERLOAD_MAX_HEAP_PERCENT', 90, 0, 100),
    overloadRetryAfterSeconds: integer(env, 'OVERLOAD_RETRY_AFTER_SECONDS', 2, 1, 3600),
    rateLimitPerMinute,
    // Off by default only where the whole limiter is off (tests, the bench's load generator).
    signupsPerMinute: integer(
      env,
      'SIGNUP_LIMIT_PER_MINUTE',
      rateLimitPerMinute === 0 ? 0 : 30,
      0,
      1_000_000,
    ),
    adminKeyFailuresPerHour: integer(env, 'ADMIN_KEY_FAILURES_PER_HOUR', 20, 1, 1_000_000),
    metricsKey,
    eventStreamsMax: integer(env, 'EVENT_STREAMS_MAX', 10_000, 0, 1_000_000),
    requestTimeoutMs: seconds(env, 'REQUEST_TIMEOUT_SECONDS', 30, 3600),
    headersTimeoutMs: seconds(env, 'HEADERS_TIMEOUT_SECONDS', 10, 3600),
    keepAliveTimeoutMs: seconds(env, 'KEEP_ALIVE_TIMEOUT_SECONDS', 72, 3600),
    trustProxy: trustProxy(env),
    logLevel: raw(env, 'LOG_LEVEL') ?? 'info',
    refundFeePercent: integer(env, 'REFUND_FEE_PERCENT', 10, 0, 100),
    refundCutoffHours: integer(env, 'REFUND_CUTOFF_HOURS', 24, 0, 8760),
    cancelRefundBatch: integer(env, 'CANCEL_REFUND_BATCH', 200, 1, 10_000),
    gateKey: key(env, 'GATE_KEY'),
    ticketSigningKey: ticketSigningKey(env),
    ...webhook(env),
    signupChallenge: boolean(env, 'SIGNUP_CHALLENGE', false),
    challengeCost: integer(env, 'CHALLENGE_COST', DEFAULT_CHALLENGE_COST, ...CHALLENGE_COST_RANGE),
  };
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  // Node refuses a headers timeout above the request timeout; say so in our own words.
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new ConfigError('HEADERS_TIMEOUT_SECONDS must not exceed REQUEST_TIMEOUT_SECONDS');
  }
  return Object.freeze(config);
}
