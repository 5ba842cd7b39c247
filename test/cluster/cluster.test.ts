import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup } from '../../harness/cleanup.js';
import { buildServer, type Cluster, createScratchDatabase, PROJECT_ROOT } from '../../harness/cluster.js';
import { ClusterClient } from '../../harness/http.js';
import { startService } from '../../harness/service.js';
import {
  adminUrl,
  type CheckedSale,
  expectCleanSale,
  ownRedis,
  requireServers,
  type ServerSettings,
  saleWithChecks,
  serversReady,
} from './support.js';

/**
 * Three real server processes behind one PostgreSQL and one Redis, driven by 500 buyers at
 * random across them, then every guarantee of API.md checked through the API and the
 * database (harness/invariants.ts); a second time with one instance SIGKILLed mid-sale.
 *
 * Isolation: each run gets a throwaway database (created here, dropped after) and a
 * redis-server of its own (support.ts: ownRedis), so nothing another run keeps in the shared
 * Redis is touched, and no other run's admission ticker tends this run's line.
 */

requireServers('cluster');

const INSTANCES = 3;
const USERS = 500;
const SEATS = 50;
const SETTINGS: ServerSettings = {
  QUEUE_MAX_ACTIVE: 50,
  QUEUE_ADMIT_PER_SECOND: 100,
  QUEUE_ACTIVE_TTL_SECONDS: 20,
  HOLD_TTL_SECONDS: 10,
  QUEUE_IDLE_TIMEOUT_SECONDS: 30,
};
/** Each run, cluster start to checks done, stays well under this (CI runs both in < 3 min). */
const RUN_TIMEOUT_MS = 150_000;
/** Which instance dies in the second run, and after how many seats sold. */
const VICTIM = 2;
const KILL_AT_SOLD = 20;

async function migrationsApplied(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations',
    );
    return rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}

const cleanups = new Cleanup();

async function saleRun(
  name: string,
  options: { kill: boolean },
): Promise<CheckedSale & { cluster: Cluster; killedAtSold: number | null }> {
  const started = Date.now();
  const database = await createScratchDatabase(adminUrl!);
  cleanups.add('database.drop', () => database.drop());
  const redisUrl = await ownRedis(cleanups);
  // What the instances will find in drizzle/, read before they start (the folder may grow meanwhile).
  const journal = JSON.parse(readFileSync(join(PROJECT_ROOT, 'drizzle', 'meta', '_journal.json'), 'utf8'));
  // All three at once: they also race for the migration lock on the empty database.
  const { cluster, server } = await startService({
    mode: 'servers',
    instances: INSTANCES,
    databaseUrl: database.url,
    redisUrl,
    settings: SETTINGS,
    cleanup: cleanups,
  });
  const client = new ClusterClient({ targets: cluster.urls, maxInFlight: 150 });
  cleanups.add('client.close', () => client.close());

  const events: string[] = [];
  let killing: Promise<void> | undefined;
  let killedAtSold: number | null = null;
  const result = await saleWithChecks({
    name,
    cluster,
    client,
    server,
    databaseUrl: database.url,
    redisUrl,
    users: USERS,
    seats: SEATS,
    cleanups,
    events,
    started,
    moreChecks: async () => {
      const applied = await migrationsApplied(database.url);
      const expected = journal.entries.length;
      return [
        {
          name: 'migrations applied once by instances started together',
          ok: applied === expected,
          detail: `${applied} migrations recorded for ${expected} in drizzle/`,
        },
      ];
    },
    sale: {
      onSale: (sold) => {
        if (!options.kill || killing || sold < KILL_AT_SOLD) return;
        killedAtSold = sold;
        killing = cluster.kill(VICTIM, 'SIGKILL').then(() => {
          events.push(
            `instance ${VICTIM} (port ${cluster.instances[VICTIM]!.port}) SIGKILLed at ${sold} seats sold`,
          );
          // Tell the client at once rather than let every buyer find out by a refused connection.
          client.markDown(VICTIM, 10 * 60_000);
        });
      },
    },
  });
  await killing;
  return { ...result, cluster, killedAtSold };
}

describe.skipIf(!serversReady)(`cluster: ${INSTANCES} instances, one PostgreSQL, one Redis`, () => {
  beforeAll(() => buildServer(), 120_000);
  afterAll(cleanups.runAll, 60_000);

  it(
    `when ${USERS} users race for ${SEATS} seats across the instances, then every guarantee of API.md holds`,
    async () => {
      try {
        expectCleanSale(await saleRun('steady', { kill: false }), SEATS);
      } finally {
        await cleanups.runAll();
      }
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'when one instance is SIGKILLed mid-sale, then the other two finish it and nothing is lost or doubled',
    async () => {
      try {
        const run = await saleRun('kill', { kill: true });
        expectCleanSale(run, SEATS);
        // The kill really happened mid-sale, and only the victim died.
        expect(run.killedAtSold).not.toBeNull();
        expect(run.killedAtSold!).toBeLessThan(SEATS);
        expect(run.cluster.instances[VICTIM]!.exitSignal).toBe('SIGKILL');
        expect(run.cluster.instances.filter((i) => i.alive)).toHaveLength(INSTANCES - 1);
      } finally {
        await cleanups.runAll();
      }
    },
    RUN_TIMEOUT_MS,
  );
});
