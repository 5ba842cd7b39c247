import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup } from '../../harness/cleanup.js';
import { buildServer, type Cluster, createScratchDatabase } from '../../harness/cluster.js';
import { startService } from '../../harness/service.js';
import { addDays, todayUtc } from '../../src/concerts/dates.js';
import { ownRedis, requireServers, serversReady } from './support.js';

/**
 * A cancelled show refunded exactly once across instances that die (issue 18 item 2). A
 * 20,000-seat show sold to 5,000 buyers (4 seats each) is cancelled on one of three instances;
 * every instance's refund job shares the work in small batches, and one instance is SIGKILLed
 * while refunds are under way. Checked from the database afterwards: every payment refunded
 * once and in full, every balance equal to its history, every seat free, the show CANCELLED.
 *
 * The sale itself is written by SQL (a factory, like any test data): the subject here is the
 * cancellation, and 30,000 purchase requests would only make the run long.
 */

requireServers('cancelled show on three instances');

const BUYERS = 5_000;
const SEATS_EACH = 4;
const PRICE = 50_000;
const START_BALANCE = 1_000_000;
/** Small batches, so the refunds take long enough for an instance to die in the middle of them. */
const BATCH = 20;

describe.skipIf(!serversReady)(
  'a cancelled 20,000-seat show on three instances, one SIGKILLed midway',
  () => {
    const cleanups = new Cleanup();
    let cluster: Cluster;
    let adminKey: string;
    let databaseUrl: string;

    beforeAll(async () => {
      await buildServer();
      const redisUrl = await ownRedis(cleanups);
      const database = await createScratchDatabase(process.env.TEST_DATABASE_URL!, 'bo_cancel_');
      cleanups.add('drop database', () => database.drop());
      databaseUrl = database.url;
      const service = await startService({
        mode: 'servers',
        instances: 3,
        databaseUrl,
        redisUrl,
        settings: { CANCEL_REFUND_BATCH: BATCH },
        cleanup: cleanups,
      });
      cluster = service.cluster;
      adminKey = service.adminKey;
    }, 180_000);
    afterAll(cleanups.runAll, 60_000);

    const admin = (url: string, path: string, method = 'GET', body?: unknown) =>
      fetch(`${url}${path}`, {
        method,
        headers: { 'admin-key': adminKey, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });

    it('when the show is cancelled and an instance dies midway, then every payment is refunded once and the status reaches CANCELLED', async () => {
      const [a, b] = cluster.urls as [string, string, string];
      const date = addDays(todayUtc(Date.now()), 40);
      const created = await admin(a, '/api/v1/admin/concerts', 'POST', {
        title: 'Stadium night',
        venue: 'Main Stadium',
        seating: Array.from({ length: 10 }, (_, i) => ({
          section: `S${i + 1}`,
          grade: i < 2 ? 'VIP' : 'R',
          price: PRICE,
          rows: Array.from({ length: 40 }, () => 50),
        })),
        dates: [{ date }],
      });
      expect(created.status).toBe(201);
      const { concertId, totalSeats } = (await created.json()) as { concertId: string; totalSeats: number };
      expect(totalSeats).toBe(BUYERS * SEATS_EACH);

      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      cleanups.add('db.end', () => db.end());
      await sellEverySeat(db, concertId, date);

      const cancelled = await admin(a, `/api/v1/admin/concerts/${concertId}/dates/${date}/cancel`, 'POST');
      expect(cancelled.status).toBe(202);
      // Sent again to another instance: nothing more happens, and it says so.
      const again = await admin(b, `/api/v1/admin/concerts/${concertId}/dates/${date}/cancel`, 'POST');
      expect(again.status).toBe(409);

      // Kill the third instance while the refunds are under way.
      const progressPath = `/api/v1/admin/concerts/${concertId}/dates/${date}/cancel`;
      let progress = { status: 'CANCELLING', payments: 0, refunded: 0 };
      let killedAt: number | undefined;
      const deadline = Date.now() + 150_000;
      while (progress.status !== 'CANCELLED' && Date.now() < deadline) {
        progress = (await (await admin(b, progressPath)).json()) as typeof progress;
        if (killedAt === undefined && progress.refunded >= BUYERS / 10) {
          killedAt = progress.refunded;
          await cluster.kill(2);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(killedAt, 'the instance was killed while refunds were under way').toBeLessThan(BUYERS);
      expect(progress).toEqual({ date, status: 'CANCELLED', payments: BUYERS, refunded: BUYERS });

      // The database's own account, not the clients'.
      const one = async (text: string) => (await db.query(text)).rows[0];
      expect(await one(`SELECT count(*)::int AS n FROM payments WHERE status <> 'REFUNDED'`)).toEqual({
        n: 0,
      });
      expect(
        await one(`SELECT count(*)::int AS n FROM payments WHERE refunded <> amount OR refund_fee <> 0`),
      ).toEqual({ n: 0 });
      // Exactly one REFUND per buyer, of the whole payment.
      expect(
        await one(`SELECT count(*)::int AS n, count(DISTINCT user_id)::int AS users, sum(amount)::bigint AS total
                   FROM wallet_transactions WHERE type = 'REFUND'`),
      ).toEqual({ n: BUYERS, users: BUYERS, total: String(BUYERS * SEATS_EACH * PRICE) });
      expect(
        await one(`SELECT count(*)::int AS n FROM wallets w
                  WHERE w.balance <> (SELECT sum(t.amount) FROM wallet_transactions t WHERE t.user_id = w.user_id)
                     OR w.balance <> ${START_BALANCE}`),
      ).toEqual({ n: 0 });
      expect(
        await one(`SELECT count(*)::int AS n FROM seats WHERE sold OR reservation_id IS NOT NULL`),
      ).toEqual({ n: 0 });
      expect(await one(`SELECT count(*)::int AS n FROM reservations WHERE status <> 'REFUNDED'`)).toEqual({
        n: 0,
      });
    }, 240_000);
  },
);

/** Every seat of the show sold: 5,000 buyers with 4 seats and one payment each, as pay_reservations writes them. */
async function sellEverySeat(db: pg.Client, concertId: string, date: string): Promise<void> {
  await db.query('BEGIN');
  await db.query(`
    CREATE TEMP TABLE buyers ON COMMIT DROP AS
      SELECT n, gen_random_uuid() AS user_id, gen_random_uuid() AS payment_id FROM generate_series(1, ${BUYERS}) n`);
  await db.query(`INSERT INTO users (id, name, created_at) SELECT user_id, 'buyer ' || n, now() FROM buyers`);
  await db.query(
    `INSERT INTO wallets (user_id, balance) SELECT user_id, ${START_BALANCE - SEATS_EACH * PRICE} FROM buyers`,
  );
  await db.query(`
    INSERT INTO wallet_transactions (id, user_id, type, amount, balance_after, created_at)
      SELECT gen_random_uuid(), user_id, 'CHARGE', ${START_BALANCE}, ${START_BALANCE}, now() FROM buyers`);
  await db.query(`
    INSERT INTO wallet_transactions (id, user_id, type, amount, balance_after, created_at)
      SELECT gen_random_uuid(), user_id, 'PAYMENT', ${-SEATS_EACH * PRICE}, ${START_BALANCE - SEATS_EACH * PRICE}, now()
      FROM buyers`);
  await db.query(
    `
    INSERT INTO reservations
      (id, user_id, concert_id, show_id, date, seat_number, price, status, hold_expires_at, created_at, payment_id)
      SELECT gen_random_uuid(), b.user_id, $1, sh.id, sh.date, (b.n - 1) * ${SEATS_EACH} + k, ${PRICE}, 'CONFIRMED',
             now(), now(), b.payment_id
      FROM buyers b CROSS JOIN generate_series(1, ${SEATS_EACH}) k
      JOIN shows sh ON sh.concert_id = $1 AND sh.date = $2`,
    [concertId, date],
  );
  await db.query(
    `
    UPDATE seats s SET sold = true, reservation_id = r.id
      FROM reservations r WHERE r.show_id = s.show_id AND r.seat_number = s.seat_number AND r.concert_id = $1`,
    [concertId],
  );
  await db.query(
    `
    INSERT INTO payments
      (id, reservation_id, user_id, concert_id, show_id, date, seat_number, amount, balance_after, paid_at, status)
      SELECT DISTINCT ON (r.payment_id) r.payment_id, r.id, r.user_id, r.concert_id, r.show_id, r.date, r.seat_number,
             ${SEATS_EACH * PRICE}, ${START_BALANCE - SEATS_EACH * PRICE}, now(), 'PAID'
      FROM reservations r WHERE r.concert_id = $1 ORDER BY r.payment_id, r.seat_number`,
    [concertId],
  );
  await db.query('COMMIT');
  await db.query('ANALYZE');
}
