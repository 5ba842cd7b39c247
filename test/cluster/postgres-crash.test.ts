import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup } from '../../harness/cleanup.js';
import { buildServer, type Cluster, createScratchDatabase, probe } from '../../harness/cluster.js';
import { ClusterClient } from '../../harness/http.js';
import { startService } from '../../harness/service.js';
import { PostgresServer } from '../../harness/stores.js';
import { sleep } from '../../harness/wait.js';
import {
  expectCleanSale,
  ownRedis,
  requireServers,
  type ServerEnv,
  type ServerSettings,
  saleWithChecks,
  serversReady,
  signUp,
} from './support.js';

/**
 * PostgreSQL crash and restart (issue 10 item 5). A PostgreSQL cluster of the test's own
 * (initdb on a spare port, own directory) serves two instances during a sale; its postmaster
 * is SIGKILLed mid-sale (its backends die with it) and started again, recovering from its WAL.
 *
 * While it is down the instances answer 503 UNAVAILABLE (never a 500) and are not ready; they
 * recover without being restarted. Afterwards: every invariant of the sale (no seat sold twice,
 * every balance equal to its history, every payment matching a debit), and no idempotency key
 * whose stored answer names an effect that is not in the database (a key is only ever stored
 * in the transaction of its effect).
 */

requireServers('postgres crash');

const SETTINGS: ServerSettings = {
  QUEUE_MAX_ACTIVE: 30,
  QUEUE_ADMIT_PER_SECOND: 100,
  QUEUE_ACTIVE_TTL_SECONDS: 60,
  HOLD_TTL_SECONDS: 10,
  QUEUE_IDLE_TIMEOUT_SECONDS: 30,
};
const USERS = 200;
const SEATS = 30;
const KILL_AT_SOLD = 10;

/** Stored answers that claim an effect the database does not hold, and keys with no answer. */
async function idempotencyFindings(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ key: string; status_code: number | null; why: string }>(`
      SELECT k.key, k.status_code,
             CASE WHEN k.status_code IS NULL THEN 'no stored answer'
                  WHEN k.response ? 'paymentId' THEN 'payment missing'
                  ELSE 'transaction missing' END AS why
        FROM idempotency_keys k
       WHERE k.status_code IS NULL
          OR (k.status_code BETWEEN 200 AND 299 AND k.response ? 'paymentId' AND NOT EXISTS
               (SELECT 1 FROM payments p WHERE p.id = (k.response->>'paymentId')::uuid))
          OR (k.status_code BETWEEN 200 AND 299 AND k.response ? 'transactionId' AND NOT EXISTS
               (SELECT 1 FROM wallet_transactions t WHERE t.id = (k.response->>'transactionId')::uuid))`);
    const [{ n }] = (
      await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM idempotency_keys WHERE status_code BETWEEN 200 AND 299',
      )
    ).rows as [{ n: number }];
    if (n === 0) return ['no successful idempotent request stored at all: the check saw nothing'];
    return rows.map((r) => `key ${r.key} (${r.status_code}): ${r.why}`);
  } finally {
    await client.end();
  }
}

describe.skipIf(!serversReady)('PostgreSQL postmaster SIGKILLed mid-sale and restarted', () => {
  const cleanups = new Cleanup();
  let postgres: PostgresServer;
  let cluster: Cluster;
  let server: ServerEnv;
  let databaseUrl: string;
  let redisUrl: string;

  beforeAll(async () => {
    await buildServer();
    redisUrl = await ownRedis(cleanups);
    postgres = await PostgresServer.create();
    cleanups.add('postgres.stop', () => postgres.stop());
    await postgres.start();
    const database = await createScratchDatabase(postgres.url);
    databaseUrl = database.url;
    ({ cluster, server } = await startService({
      mode: 'servers',
      instances: 2,
      databaseUrl,
      redisUrl,
      settings: SETTINGS,
      cleanup: cleanups,
    }));
  }, 120_000);
  afterAll(cleanups.runAll, 60_000);

  it('when PostgreSQL dies mid-sale, then 503 while down, recovery without restarts, nothing doubled or lost', async () => {
    const client = new ClusterClient({ targets: cluster.urls, maxInFlight: 120, maxAttempts: 60 });
    cleanups.add('client.close', () => client.close());
    const witness = await signUp(client);

    const events: string[] = [];
    const whileDown: { url: string; status: number | null; code: string | undefined }[] = [];
    let crash: Promise<void> | undefined;
    const result = await saleWithChecks({
      name: 'postgres-crash',
      cluster,
      client,
      server,
      databaseUrl,
      redisUrl,
      users: USERS,
      seats: SEATS,
      cleanups,
      events,
      moreChecks: async () => {
        const findings = await idempotencyFindings(databaseUrl);
        return [
          {
            name: 'SQL: every stored idempotent answer names an effect that committed',
            ok: findings.length === 0,
            detail: findings.length === 0 ? 'all keys consistent' : findings.slice(0, 10).join('; '),
          },
        ];
      },
      sale: {
        timeLimitMs: 120_000,
        onSale: (sold) => {
          if (crash || sold < KILL_AT_SOLD) return;
          crash = (async () => {
            await postgres.kill();
            events.push(`postmaster SIGKILLed at ${sold} seats sold (its backends exited)`);
            for (const url of cluster.urls) {
              for (const path of ['/health/ready', '/api/v1/balance']) {
                const res = await fetch(`${url}${path}`, { headers: witness.auth });
                const body = (await res.json().catch(() => ({}))) as { code?: string };
                whileDown.push({ url: `${url}${path}`, status: res.status, code: body.code });
              }
            }
            await sleep(1_000);
            await postgres.start();
            events.push('postmaster started again (crash recovery from the WAL)');
          })();
        },
      },
    });
    await crash;

    expect(events).toHaveLength(2);
    expect(whileDown.length).toBe(cluster.urls.length * 2);
    for (const answer of whileDown) {
      expect(answer.status, answer.url).toBe(503);
      expect(answer.code, answer.url).toBe('UNAVAILABLE');
    }
    for (const url of cluster.urls) expect(await probe(`${url}/health/ready`)).toBe(200);
    expect(cluster.instances.every((i) => i.alive)).toBe(true);

    expectCleanSale(result, SEATS);
  }, 240_000);
});
