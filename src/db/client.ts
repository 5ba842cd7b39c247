import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { type ClockSample, sampleClock } from '../shared/clock.js';
import * as schema from './schema.js';

/**
 * One schema and one set of queries for both engines: repositories see only `Db`, which is
 * what drizzle gives for PGlite and for node-postgres alike.
 */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Anything a query can run on: the database or an open transaction. */
export type Executor = Db | Tx;

export interface Database {
  readonly db: Db;
  readonly kind: 'embedded' | 'server';
  ping(): Promise<void>;
  /** One reading of the database server's clock, timed on a connection already open (see SharedClock). */
  sampleClock(): Promise<ClockSample>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres://… or undefined for the embedded engine. */
  url: string | undefined;
  /** Embedded data directory; 'memory' keeps nothing. */
  dataDir: string;
  poolSize?: number;
  statementTimeoutMs?: number;
  /** Acquisitions allowed to wait for a connection; one more fails at once (see BoundedPool). */
  maxWaiting?: number;
  onError?: (error: Error) => void;
  /**
   * Record webhook events in the outbox (WEBHOOK_URL is set): every connection carries
   * boxoffice.webhooks = on, which record_event (src/webhooks/record-event.sql) reads.
   */
  recordEvents?: boolean;
}

// drizzle/ sits at the package root both for src/db (tests) and dist/db (built).
const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'drizzle');

// Any fixed number: every instance agrees on it, so only one migrates at a time.
const MIGRATION_LOCK_ID = 7_361_004_211;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openServer(options.url, options) : openEmbedded(options.dataDir, options.recordEvents);
}

async function openEmbedded(dataDir: string, recordEvents = false): Promise<Database> {
  let client: PGlite;
  if (dataDir === 'memory') {
    client = await PGlite.create();
  } else {
    const dir = join(dataDir, 'pg');
    mkdirSync(dir, { recursive: true });
    client = await PGlite.create(dir);
  }
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  await migratePglite(db as never, { migrationsFolder });
  // One connection: the setting holds for the process's whole life.
  if (recordEvents) await client.exec(`SET boxoffice.webhooks = 'on'`);
  return {
    db,
    kind: 'embedded',
    async ping() {
      await client.query('SELECT 1');
    },
    // The embedded engine runs in this process: its clock is the process clock.
    sampleClock: () => sampleClock(async () => Date.now()),
    async close() {
      if (!client.closed) await client.close();
    },
  };
}

/** How far past the server's own statement timeout the client stops waiting for an answer. */
const CLIENT_TIMEOUT_MARGIN_MS = 250;
/** How long opening a new pooled connection may take (nobody waits for it that long). */
const CONNECT_TIMEOUT_MS = 10_000;

/** Thrown (as a 503) when too many requests already wait for a pooled connection. */
class PoolQueueFull extends Error {
  override name = 'PoolQueueFull';
  readonly code = 'POOL_QUEUE_FULL';
}

/**
 * A pg.Pool that stays useful when the server does not answer.
 *
 * - Its wait list is bounded: once `maxWaiting` acquisitions wait, the next fails at once with
 *   PoolQueueFull (503). A database thawing after a freeze meets hundreds of waiters otherwise,
 *   each of them late by the time its turn comes, and the instance spends the thaw serving the
 *   backlog instead of new requests.
 * - An acquisition has one deadline from the moment it is asked for (pg-pool's own timeout
 *   starts again when a waiter is handed a new connection, which can double the wait).
 * - A query the client-side `query_timeout` gave up on kills its connection: a frozen server
 *   would answer it one day, and until then everything queued behind it on that connection (the
 *   ROLLBACK of its transaction, the next user of a pooled client) would wait as long again.
 *
 * `query()` acquires through `connect()` too, so both paths are bounded.
 */
class BoundedPool extends pg.Pool {
  constructor(
    config: pg.PoolConfig,
    private readonly maxWaiting: number,
    private readonly acquireTimeoutMs: number,
  ) {
    super(config);
  }

  // biome-ignore lint/suspicious/noExplicitAny: pg's two forms (callback and promise) in one body
  override connect(callback?: any): any {
    const acquired = this.acquire();
    if (!callback) return acquired;
    acquired.then(
      (client) => callback(undefined, client, client.release),
      (error) => callback(error, undefined, () => {}),
    );
    return undefined;
  }

  private acquire(): Promise<pg.PoolClient> {
    if (this.waitingCount >= this.maxWaiting && this.idleCount === 0) {
      return Promise.reject(
        new PoolQueueFull(`${this.waitingCount} requests already wait for a database connection`),
      );
    }
    return new Promise((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        reject(new Error('timeout exceeded when trying to connect'));
      }, this.acquireTimeoutMs);
      super.connect().then(
        (client) => {
          clearTimeout(timer);
          if (late) client.release();
          else resolve(guard(client));
        },
        (error) => {
          clearTimeout(timer);
          if (!late) reject(error);
        },
      );
    });
  }
}

/** Destroys the connection of a client whose query was given up on (see BoundedPool). */
function guard(client: pg.PoolClient): pg.PoolClient {
  const inner = client as pg.PoolClient & {
    __guarded?: boolean;
    connection?: { stream?: { destroy(): void } };
  };
  if (inner.__guarded) return client;
  inner.__guarded = true;
  // A checked-out client has no listener of its own (pg-pool listens only while it is idle): the
  // connection ended here, or by the server, must fail its queries, not crash the process with
  // an unhandled 'error' event.
  client.on('error', () => {});
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const result = query(...args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).catch((error: Error) => {
        if (error?.message === 'Query read timeout') inner.connection?.stream?.destroy();
      });
    }
    return result;
  };
  return client;
}

async function openServer(url: string, options: DatabaseOptions): Promise<Database> {
  const statementTimeoutMs = options.statementTimeoutMs ?? 5000;
  // A frozen server (SIGSTOP, a full network buffer) cannot enforce its own statement timeout:
  // the client stops waiting just after it would have, and the request becomes a 503.
  const clientTimeoutMs = statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS;
  const pool = new BoundedPool(
    {
      connectionString: url,
      max: options.poolSize ?? 10,
      statement_timeout: statementTimeoutMs,
      query_timeout: clientTimeoutMs,
      ...(options.recordEvents ? { options: '-c boxoffice.webhooks=on' } : {}),
      // A request waits for a connection at most clientTimeoutMs (BoundedPool's deadline: a
      // database that does not answer is a 503, never a hang), but a connection being opened is
      // given longer and joins the pool when it is ready: on a loaded machine after a thaw,
      // opening one can take longer than a request may wait, and cutting every attempt off at
      // the request's deadline would leave the pool empty for good.
      connectionTimeoutMillis: Math.max(CONNECT_TIMEOUT_MS, clientTimeoutMs),
      idleTimeoutMillis: 30_000,
    },
    options.maxWaiting ?? 1000,
    clientTimeoutMs,
  );
  // An idle client losing its connection must not crash the process; the next query
  // gets a fresh connection or fails with a 503.
  pool.on('error', (error) => options.onError?.(error));
  const db = drizzlePg({ client: pool, schema }) as unknown as Db;

  // Several instances may start together: the advisory lock lets one migrate while the
  // others wait, and then find nothing left to do. A server that cannot be reached leaves
  // nothing open behind (the caller retries with a new pool).
  try {
    const lockClient: pg.PoolClient = await pool.connect();
    try {
      await lockClient.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
      await migratePg(drizzlePg({ client: lockClient, schema }), { migrationsFolder });
    } finally {
      await lockClient.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => {});
      lockClient.release();
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  return {
    db,
    kind: 'server',
    async ping() {
      await db.execute(sql`SELECT 1`);
    },
    async sampleClock() {
      // The connection is taken first, so waiting for a free one never counts as round trip.
      const client: pg.PoolClient = await pool.connect();
      try {
        return await sampleClock(async () => {
          const { rows } = await client.query<{ ms: number }>(
            'SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms',
          );
          return rows[0]!.ms;
        });
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/** Rows of a raw `execute`, whose result shape is the driver's (both carry `rows`). */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/**
 * Numbers or ids as one PostgreSQL array parameter, in the array's text form, which both drivers
 * pass through unchanged (cast it in the statement: `::integer[]`, `::uuid[]`).
 */
export function pgArray(values: readonly (number | string)[]): string {
  return `{${values.join(',')}}`;
}
