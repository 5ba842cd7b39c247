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

async function openServer(url: string, options: DatabaseOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    statement_timeout: options.statementTimeoutMs ?? 5000,
    ...(options.recordEvents ? { options: '-c boxoffice.webhooks=on' } : {}),
    // A database that does not answer must become a quick 503, never a hang.
    connectionTimeoutMillis: 2000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection must not crash the process; the next query
  // gets a fresh connection or fails with a 503.
  pool.on('error', (error) => options.onError?.(error));
  const db = drizzlePg({ client: pool, schema }) as unknown as Db;

  // Several instances may start together: the advisory lock lets one migrate while the
  // others wait, and then find nothing left to do. A server that cannot be reached leaves
  // nothing open behind (the caller retries with a new pool).
  try {
    const lockClient = await pool.connect();
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
      const client = await pool.connect();
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
