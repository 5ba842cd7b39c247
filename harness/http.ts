import { Pool } from 'undici';
import { sleep } from './wait.js';

/**
 * A small keep-alive HTTP client for driving several instances of the service at once.
 *
 * Every request goes to a random live instance (there is no load balancer: the client is
 * the balancer). An instance that refuses a connection is set aside for a moment and the
 * request goes to another one. A request that may already have reached a server that then
 * died (reset, closed socket, timeout) is sent again elsewhere only when doing so is safe:
 * reads, `DELETE`s and writes that carry an `Idempotency-Key`; anything else is handed back
 * to the caller as an `AmbiguousRequestError`, because only the caller knows how to find out
 * whether it happened.
 *
 * A `503 UNAVAILABLE` (the service's answer when a store does not answer in time, e.g. its
 * connection pool is exhausted under overload) is retried the same way, after a short backoff.
 *
 * Every answer is tallied by status and problem `code` ("409 SEAT_UNAVAILABLE"), overall and
 * per route, and every network failure as "ERR <code>", which is what the run reports print.
 */

// biome-ignore lint/suspicious/noExplicitAny: a JSON body, read by callers that know their route's shape
export interface HttpResponse<T = any> {
  status: number;
  /** The problem `code` of an error response, when it has one. */
  code: string | undefined;
  body: T;
  headers: Record<string, string | string[] | undefined>;
  /** Which instance answered (index into the targets). */
  instance: number;
  /** What went wrong with earlier attempts of this request ("ECONNRESET", "503"), oldest first. */
  failures: string[];
}

/** The request may or may not have been processed: the connection broke after it was sent. */
export class AmbiguousRequestError extends Error {
  override name = 'AmbiguousRequestError';
  constructor(
    readonly code: string,
    readonly instance: number,
    options?: { cause?: unknown },
  ) {
    super(`instance ${instance}: ${code} after the request was sent`, options);
  }
}

/** No instance could be reached within the attempts allowed. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

export interface TallySnapshot {
  total: number;
  /** "200", "409 SEAT_UNAVAILABLE", "ERR ECONNREFUSED", … → count. */
  byStatus: Record<string, number>;
  /** route label → status key → count. */
  byRoute: Record<string, Record<string, number>>;
}

/** Counts outcomes by status key, overall and per route. */
export class ResponseTally {
  private readonly byRoute = new Map<string, Map<string, number>>();

  add(route: string, key: string): void {
    let counts = this.byRoute.get(route);
    if (!counts) {
      counts = new Map();
      this.byRoute.set(route, counts);
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }

  snapshot(): TallySnapshot {
    const byStatus: Record<string, number> = {};
    const byRoute: Record<string, Record<string, number>> = {};
    let total = 0;
    for (const [route, counts] of [...this.byRoute].sort(([a], [b]) => a.localeCompare(b))) {
      byRoute[route] = {};
      for (const [key, n] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
        byRoute[route][key] = n;
        byStatus[key] = (byStatus[key] ?? 0) + n;
        total += n;
      }
    }
    return { total, byStatus: sortKeys(byStatus), byRoute };
  }
}

function sortKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/** A FIFO counting semaphore: bounds the requests in flight, whatever the number of callers. */
class Semaphore {
  private available: number;
  private readonly waiters: (() => void)[] = [];

  constructor(size: number) {
    this.available = size;
  }

  async acquire(): Promise<void> {
    if (this.available > 0) {
      this.available--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.available++;
  }
}

export interface ClusterClientOptions {
  /** Base URLs of the instances, e.g. http://127.0.0.1:4001. Only loopback is expected. */
  targets: string[];
  /** Requests in flight at most, across all instances (default 128). */
  maxInFlight?: number;
  /** Longest wait for response headers, and for the body (default 15 s). */
  requestTimeoutMs?: number;
  /** How long an instance that failed at the network level is skipped (default 2 s). */
  downForMs?: number;
  /** Attempts for one request before giving up (default: targets + 3). */
  maxAttempts?: number;
  /** Retry a retryable request answered 503 UNAVAILABLE (default true). */
  retryUnavailable?: boolean;
  /**
   * The targets are reverse proxies (deploy/nginx): their own 502 and 504 say the instance
   * behind them died or stalled with the request, which is the network error they hide. Such
   * an answer is retried when the request is retryable, and is an AmbiguousRequestError
   * otherwise, exactly as a reset connection to an instance would be. (Instances never answer
   * 502 or 504 themselves.)
   */
  gateway?: boolean;
}

export interface CallOptions {
  /** Label the tallies use, e.g. "POST /api/v1/reservations" (default: method and path). */
  route?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * Safe to send again after the request may have been processed (default: GET, DELETE, and
   * any request with an Idempotency-Key).
   */
  retryable?: boolean;
  /** Bypasses the in-flight limit, so a monitor's samples never queue behind the buyers. */
  priority?: boolean;
}

/** Errors on which the request never left this process (nothing can have happened). */
const NOT_SENT = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTAVAIL', 'ENOTFOUND']);

function errorCode(error: unknown): string {
  const e = error as { code?: unknown; cause?: { code?: unknown } };
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return error instanceof Error ? error.name : 'UNKNOWN';
}

export class ClusterClient {
  readonly tally = new ResponseTally();
  private readonly pools: Pool[];
  private readonly downUntil: number[];
  private readonly limit: Semaphore;
  private readonly downForMs: number;
  private readonly maxAttempts: number;

  constructor(readonly options: ClusterClientOptions) {
    if (options.targets.length === 0) throw new Error('ClusterClient needs at least one target');
    const maxInFlight = options.maxInFlight ?? 128;
    const timeout = options.requestTimeoutMs ?? 15_000;
    this.pools = options.targets.map(
      (target) =>
        new Pool(target, {
          // Enough sockets for the whole in-flight budget to land on one instance (after a kill).
          connections: maxInFlight + 8,
          pipelining: 1,
          keepAliveTimeout: 10_000,
          headersTimeout: timeout,
          bodyTimeout: timeout,
          connect: { timeout: 2_000 },
        }),
    );
    this.downUntil = options.targets.map(() => 0);
    this.limit = new Semaphore(maxInFlight);
    this.downForMs = options.downForMs ?? 2_000;
    this.maxAttempts = options.maxAttempts ?? options.targets.length + 3;
  }

  get targets(): readonly string[] {
    return this.options.targets;
  }

  /** A random instance not recently seen failing; any instance when all of them were. */
  private pick(exclude: number | undefined): number {
    const now = Date.now();
    const all = this.pools.map((_, i) => i);
    const up = all.filter((i) => this.downUntil[i]! <= now && i !== exclude);
    const from = up.length > 0 ? up : all.filter((i) => i !== exclude);
    const choice = from.length > 0 ? from : all;
    return choice[Math.floor(Math.random() * choice.length)]!;
  }

  /** Marks an instance as failing for a while (callers who know it is gone can say so). */
  markDown(instance: number, forMs = this.downForMs): void {
    this.downUntil[instance] = Date.now() + forMs;
  }

  /**
   * Sends a request to a random live instance and returns its answer, whatever the status.
   * Throws AmbiguousRequestError (see the file comment) or UnreachableError.
   */
  // biome-ignore lint/suspicious/noExplicitAny: as HttpResponse
  async call<T = any>(method: string, path: string, options: CallOptions = {}): Promise<HttpResponse<T>> {
    const route = options.route ?? `${method} ${path}`;
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const retryable =
      options.retryable ?? (method === 'GET' || method === 'DELETE' || 'idempotency-key' in headers);

    const retryUnavailable = retryable && (this.options.retryUnavailable ?? true);
    const failures: string[] = [];
    if (!options.priority) await this.limit.acquire();
    try {
      let last: unknown;
      let previous: number | undefined;
      for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
        // Backoff with jitter, so that retries after an overload do not all arrive together.
        if (attempt > 0) await sleep(Math.min(100 * attempt, 1_000) * (0.5 + Math.random()));
        const instance = this.pick(previous);
        previous = instance;
        let res: HttpResponse<T>;
        try {
          res = await this.send<T>(instance, route, method, path, headers, body, failures);
        } catch (error) {
          const code = errorCode(error);
          this.tally.add(route, `ERR ${code}`);
          this.markDown(instance);
          failures.push(code);
          last = error;
          if (!NOT_SENT.has(code) && !retryable)
            throw new AmbiguousRequestError(code, instance, { cause: error });
          continue;
        }
        if (this.options.gateway && (res.status === 502 || res.status === 504)) {
          const code = `HTTP ${res.status}`;
          failures.push(code);
          if (!retryable) throw new AmbiguousRequestError(code, instance);
          if (attempt < this.maxAttempts - 1) continue;
        }
        if (res.status === 503 && retryUnavailable && attempt < this.maxAttempts - 1) {
          failures.push('503');
          continue;
        }
        return res;
      }
      throw new UnreachableError(
        `${route}: no answer in ${this.maxAttempts} attempts (${failures.join(', ')})`,
        {
          cause: last,
        },
      );
    } finally {
      if (!options.priority) this.limit.release();
    }
  }

  private async send<T>(
    instance: number,
    route: string,
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    failures: string[],
  ): Promise<HttpResponse<T>> {
    const res = await this.pools[instance]!.request({
      method: method as 'GET',
      path,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.body.text();
    const type = String(res.headers['content-type'] ?? '');
    const parsed = type.includes('json') && text ? JSON.parse(text) : text;
    const code =
      res.statusCode >= 400 && parsed && typeof parsed === 'object' && typeof parsed.code === 'string'
        ? (parsed.code as string)
        : undefined;
    // A gateway's 502/504 is tallied as the network error it stands for (see `gateway`).
    const lost = this.options.gateway && (res.statusCode === 502 || res.statusCode === 504);
    this.tally.add(
      route,
      lost ? `ERR GATEWAY_${res.statusCode}` : code ? `${res.statusCode} ${code}` : String(res.statusCode),
    );
    return {
      status: res.statusCode,
      code,
      body: parsed as T,
      headers: res.headers as Record<string, string | string[] | undefined>,
      instance,
      failures: [...failures],
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.destroy().catch(() => {})));
  }
}
