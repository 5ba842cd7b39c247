import { randomUUID } from 'node:crypto';
import { join as joinPath } from 'node:path';
import { expect } from 'vitest';
import type { CreatedConcert, NewUser, QueueSettingsPatch, QueueStatus } from '../../harness/api-types.js';
import type { Cleanup } from '../../harness/cleanup.js';
import { type Cluster, PROJECT_ROOT } from '../../harness/cluster.js';
import { ClusterClient, type HttpResponse } from '../../harness/http.js';
import { checkSale, type InvariantReport } from '../../harness/invariants.js';
import { figuresOf, formatFigures, type RunFigures, writeFigures } from '../../harness/report.js';
import { runSale, type SaleOptions, type SaleResult } from '../../harness/sale.js';
import {
  type ServerEnv as HarnessServerEnv,
  serverEnv as harnessServerEnv,
  type ServerEnvOptions,
} from '../../harness/service.js';
import { RedisServer } from '../../harness/stores.js';
import { eventually, sleep } from '../../harness/wait.js';
import { addDays, todayUtc } from '../../src/concerts/dates.js';
import { serverUrls, skipWithout } from '../helpers/backends.js';

/**
 * What the cluster suites share: the servers they need, the environment of an instance, a
 * whole sale followed by every invariant of harness/invariants.ts, and a buyer's steps one at
 * a time (for probes that aim a request at one chosen instance).
 */

export const adminUrl = serverUrls.database;
/** The PostgreSQL server for scratch databases; Redis is each run's own (ownRedis). */
export const serversReady = Boolean(adminUrl);

/** The suites' one skip rule (test/helpers/backends.ts: skipWithout): they need the PostgreSQL server. */
export function requireServers(suite: string): void {
  skipWithout(suite, ['database'], 'scratch databases; the redis-server binary is needed too');
}

/**
 * A redis-server of the run's own (harness/stores.ts), stopped and removed at clean-up. Not the
 * shared Redis: every instance's admission ticker walks every line registered in its Redis,
 * with its own settings, so a run sharing one with other runs (a benchmark, another
 * engineer's servers) could see its lines admitted under someone else's TTLs.
 */
export async function ownRedis(cleanups: Cleanup): Promise<string> {
  const redis = await RedisServer.start();
  cleanups.add('redis.stop', () => redis.stop());
  return redis.url;
}

/** A type, not an interface: the harness's settings are a plain record of values. */
export type ServerSettings = {
  QUEUE_MAX_ACTIVE: number;
  QUEUE_ADMIT_PER_SECOND: number;
  QUEUE_ACTIVE_TTL_SECONDS: number;
  HOLD_TTL_SECONDS: number;
  QUEUE_IDLE_TIMEOUT_SECONDS: number;
};

export type ServerEnv = HarnessServerEnv<ServerSettings>;

/** The environment of every instance of a run: its stores, fresh secrets, the given settings. */
export function serverEnv(
  options: ServerEnvOptions<ServerSettings> & {
    databaseUrl: string;
    redisUrl: string;
    settings: ServerSettings;
  },
): ServerEnv {
  return harnessServerEnv(options);
}

export interface CheckedSale {
  sale: SaleResult;
  report: InvariantReport;
  figures: RunFigures;
}

/**
 * A whole sale through `client`, then every invariant read from the stores themselves (every
 * seat, every payment, every balance against its history, the line's order and limits). The
 * report is printed and written to test-results/cluster-<name>.json.
 */
export async function saleWithChecks(options: {
  name: string;
  cluster: Cluster;
  client: ClusterClient;
  server: ServerEnv;
  databaseUrl: string;
  redisUrl: string;
  users: number;
  seats: number;
  cleanups: Cleanup;
  events?: string[];
  admissionSkewMs?: number;
  sale?: Partial<SaleOptions>;
  started?: number;
  /** Checks of the run's own, added to the report (a failed one is a violation). */
  moreChecks?: () => Promise<{ name: string; ok: boolean; detail: string }[]>;
}): Promise<CheckedSale> {
  const started = options.started ?? Date.now();
  const { settings } = options.server;
  const sale = await runSale({
    client: options.client,
    adminKey: options.server.adminKey,
    authSecret: options.server.authSecret,
    users: options.users,
    dates: 1,
    seatsPerDate: options.seats,
    activeTtlMs: settings.QUEUE_ACTIVE_TTL_SECONDS * 1000,
    timeLimitMs: 90_000,
    runId: options.name,
    ...options.sale,
  });
  const report = await checkSale({
    sale,
    client: options.client,
    adminKey: options.server.adminKey,
    databaseUrl: options.databaseUrl,
    maxActive: settings.QUEUE_MAX_ACTIVE,
    activeTtlMs: settings.QUEUE_ACTIVE_TTL_SECONDS * 1000,
    ...(options.admissionSkewMs !== undefined ? { admissionSkewMs: options.admissionSkewMs } : {}),
  });
  for (const check of (await options.moreChecks?.()) ?? []) {
    report.checks.push(check);
    if (!check.ok) report.violations.push({ check: check.name, detail: check.detail });
  }
  const figures = figuresOf({
    run: options.name,
    instances: options.cluster.instances.length,
    sale,
    report,
    durationMs: Date.now() - started,
    maxActive: settings.QUEUE_MAX_ACTIVE,
    events: options.events ?? [],
  });
  console.log(formatFigures(figures));
  writeFigures(joinPath(PROJECT_ROOT, 'test-results', `cluster-${options.name}.json`), figures);
  return { sale, report, figures };
}

/** The sale finished and no invariant was broken. */
export function expectCleanSale(result: CheckedSale, seats: number): void {
  expect(result.report.violations).toEqual([]);
  expect(result.figures.sold).toBe(seats);
}

// ---------------------------------------------------------------------------------------------
// A buyer, one step at a time, through a client aimed at one instance or several.

export interface Buyer {
  userId: string;
  auth: Record<string, string>;
  token?: string;
}

/** A client that only ever talks to one instance (no failover: the probe chooses where). */
export function clientOf(url: string): ClusterClient {
  return new ClusterClient({ targets: [url], maxInFlight: 64, maxAttempts: 1 });
}

function ok<T = unknown>(res: HttpResponse<T>, status: number, what: string): T {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function signUp(client: ClusterClient, charge = 0): Promise<Buyer> {
  const body = ok<NewUser>(
    await client.call('POST', '/api/v1/users', { body: { name: 'probe' } }),
    201,
    'sign-up',
  );
  const buyer = { userId: body.userId, auth: { authorization: `Bearer ${body.accessToken}` } };
  if (charge > 0) {
    ok(
      await client.call('POST', '/api/v1/balance/charges', {
        headers: { ...buyer.auth, 'idempotency-key': randomUUID() },
        body: { amount: charge },
      }),
      200,
      'charge',
    );
  }
  return buyer;
}

/** A concert a month ahead with one date of `seats` seats. */
export async function createConcert(
  client: ClusterClient,
  adminKey: string,
  seats: number,
  price = 10_000,
): Promise<{ concertId: string; date: string }> {
  const date = addDays(todayUtc(Date.now()), 30);
  const body = ok<CreatedConcert>(
    await client.call('POST', '/api/v1/admin/concerts', {
      headers: { 'admin-key': adminKey },
      body: {
        title: `probe ${randomUUID().slice(0, 8)}`,
        venue: 'Loopback Hall',
        dates: [{ date, seats, price }],
      },
    }),
    201,
    'create concert',
  );
  return { concertId: body.concertId, date };
}

export async function setQueue(
  client: ClusterClient,
  adminKey: string,
  concertId: string,
  settings: QueueSettingsPatch,
): Promise<void> {
  ok(
    await client.call('PATCH', `/api/v1/admin/concerts/${concertId}/queue`, {
      headers: { 'admin-key': adminKey },
      body: settings,
    }),
    200,
    'queue settings',
  );
}

export type { QueueStatus } from '../../harness/api-types.js';

export async function join(client: ClusterClient, buyer: Buyer, concertId: string): Promise<QueueStatus> {
  const res = await client.call<QueueStatus>('POST', '/api/v1/queue/tokens', {
    headers: buyer.auth,
    body: { concertId },
    retryable: true,
  });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`join: ${res.status} ${JSON.stringify(res.body)}`);
  buyer.token = res.body.token;
  return res.body;
}

export async function status(client: ClusterClient, buyer: Buyer): Promise<HttpResponse<QueueStatus>> {
  return client.call<QueueStatus>('GET', '/api/v1/queue/status', {
    headers: { ...buyer.auth, 'queue-token': buyer.token! },
  });
}

/** Polls until the buyer is ACTIVE; returns the status with its activeUntil. */
export async function untilActive(
  client: ClusterClient,
  buyer: Buyer,
  timeoutMs = 20_000,
): Promise<QueueStatus> {
  return eventually(
    async () => {
      const res = await status(client, buyer);
      return res.status === 200 && res.body.status === 'ACTIVE' ? res.body : undefined;
    },
    { timeoutMs, everyMs: 100, what: `user ${buyer.userId} admitted` },
  );
}

export function gated(buyer: Buyer): Record<string, string> {
  return { ...buyer.auth, 'queue-token': buyer.token! };
}

export async function hold(
  client: ClusterClient,
  buyer: Buyer,
  concertId: string,
  date: string,
  seatNumber: number,
): Promise<HttpResponse> {
  return client.call('POST', '/api/v1/reservations', {
    headers: gated(buyer),
    body: { concertId, date, seatNumber },
  });
}

export async function pay(client: ClusterClient, buyer: Buyer, reservationId: string): Promise<HttpResponse> {
  return client.call('POST', '/api/v1/payments', {
    headers: { ...gated(buyer), 'idempotency-key': randomUUID() },
    body: { reservationId },
  });
}

export { sleep };
