import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConcertsService } from '../../src/concerts/concerts.service.js';
import { noSeatChanges } from '../../src/concerts/seat-changes.js';
import { type Database, type Db, rowsOf } from '../../src/db/client.js';
import { storedOutcome } from '../../src/db/idempotency.js';
import { IdempotencyPurge } from '../../src/db/idempotency-purge.js';
import * as schema from '../../src/db/schema.js';
import { PaymentsService } from '../../src/payments/payments.service.js';
import { HoldSweeper } from '../../src/reservations/hold-sweeper.js';
import { ReservationsService } from '../../src/reservations/reservations.service.js';
import { WalletService } from '../../src/wallet/wallet.service.js';
import { openScratchDatabase, serverUrls } from '../helpers/backends.js';

const reason = 'needs TEST_DATABASE_URL (plans are read with auto_explain on the PostgreSQL server)';
if (!serverUrls.database) console.warn(`[plans] skipped: ${reason}`);

const CONCERT = '00000000-0000-4000-8000-00000000c001';
const OTHER = '00000000-0000-4000-8000-00000000c002';
/** A stadium: 3 shows of 100,000 seats in 20 sections of 100 rows × 50 (the first 5 VIP). */
const STADIUM = '00000000-0000-4000-8000-00000000c003';
const STADIUM_SHOWS = 3;
const STADIUM_SEATS = 100_000;
const SECTION_SEATS = 5_000;
const ROW_SEATS = 50;
const SHOWS = 500;
const SEATS = 200;
const USERS = 2000;
const TABLES = [
  'users',
  'wallets',
  'wallet_transactions',
  'concerts',
  'shows',
  'show_sections',
  'seats',
  'reservations',
  'payments',
  'idempotency_keys',
];
const user = (n: number) => `md5('user ${n}')::uuid`;

/**
 * The stadium's shows, plans and seats (seat k is in section (k-1)/5000, row ((k-1)%5000)/50+1),
 * written as the app writes them (concerts.service.ts create), and a sale under way in each
 * show: every other row of the first half of each section sold, so best-available has to walk.
 */
const STADIUM_SEED = `
  INSERT INTO concerts (id, title, venue, created_at) VALUES ('${STADIUM}', 'stadium', 'stadium', now());
  INSERT INTO shows (id, concert_id, date, total_seats)
    SELECT md5('stadium ' || n)::uuid, '${STADIUM}', date '2099-01-01' + n, ${STADIUM_SEATS}
    FROM generate_series(0, ${STADIUM_SHOWS - 1}) n;
  INSERT INTO show_sections (show_id, section_no, name, grade, price, first_seat, last_seat, row_seats)
    SELECT sh.id, n, 'S' || n, CASE WHEN n < 5 THEN 'VIP' ELSE 'R' END, 1000 + n,
           n * ${SECTION_SEATS} + 1, (n + 1) * ${SECTION_SEATS},
           array_fill(${ROW_SEATS}::smallint, ARRAY[${SECTION_SEATS / ROW_SEATS}])
    FROM shows sh, generate_series(0, ${STADIUM_SEATS / SECTION_SEATS - 1}) n WHERE sh.concert_id = '${STADIUM}';
  INSERT INTO seats (show_id, seat_number, price, section_no, row_no, number_in_row, sold)
    SELECT sh.id, k, 1000 + (k - 1) / ${SECTION_SEATS}, (k - 1) / ${SECTION_SEATS},
           ((k - 1) % ${SECTION_SEATS}) / ${ROW_SEATS} + 1, (k - 1) % ${ROW_SEATS} + 1,
           ((k - 1) % ${SECTION_SEATS}) < ${SECTION_SEATS / 2} AND (((k - 1) % ${SECTION_SEATS}) / ${ROW_SEATS}) % 2 = 0
    FROM shows sh, generate_series(1, ${STADIUM_SEATS}) k WHERE sh.concert_id = '${STADIUM}';
`;

/**
 * A sale's worth of rows written straight into a fresh database, with autovacuum off for its
 * tables, so no statistics exist: 100,000 seats of one concert (500 shows × 200), 20,000 of
 * another, 2,000 buyers with 50,000 reservations, their payments, ledger and keys.
 */
const SEED = `
  INSERT INTO users (id, name, created_at) SELECT md5('user ' || n)::uuid, 'u', now()
    FROM generate_series(1, ${USERS}) n;
  INSERT INTO wallets (user_id, balance) SELECT id, 1000000 FROM users;
  INSERT INTO concerts (id, title, venue, created_at) VALUES
    ('${CONCERT}', 'big', 'hall', now()), ('${OTHER}', 'other', 'hall', now());
  INSERT INTO shows (id, concert_id, date, total_seats)
    SELECT md5('show ' || c || n)::uuid, c::uuid, date '2099-01-01' + n, ${SEATS}
    FROM (VALUES ('${CONCERT}', ${SHOWS}), ('${OTHER}', 100)) AS k(c, m), generate_series(0, k.m - 1) n;
  INSERT INTO seats (show_id, seat_number, price, section_no, row_no, number_in_row)
    SELECT s.id, k, 1000, 0, 1, k FROM shows s, generate_series(1, ${SEATS}) k;
  INSERT INTO show_sections (show_id, section_no, name, grade, price, first_seat, last_seat, row_seats)
    SELECT id, 0, 'A', 'R', 1000, 1, ${SEATS}, ARRAY[${SEATS}]::smallint[] FROM shows;
  ${STADIUM_SEED}
  INSERT INTO reservations (id, user_id, concert_id, show_id, date, seat_number, price, status, hold_expires_at, created_at)
    SELECT md5('res ' || i)::uuid, md5('user ' || (i % ${USERS} + 1))::uuid, '${CONCERT}', md5('show ${CONCERT}' || (i / ${SEATS}))::uuid,
           date '2099-01-01' + i / ${SEATS}, i % ${SEATS} + 1, 1000,
           (ARRAY['CONFIRMED', 'EXPIRED', 'CANCELLED', 'HELD'])[i % 4 + 1],
           now() - interval '1 hour' + (i % 7200) * interval '1 second', now() - interval '2 hours'
    FROM generate_series(0, 49999) i;
  UPDATE seats s SET sold = true, reservation_id = r.id FROM reservations r
    WHERE r.status = 'CONFIRMED' AND s.show_id = r.show_id AND s.seat_number = r.seat_number;
  INSERT INTO payments (id, reservation_id, user_id, concert_id, show_id, date, seat_number, amount, balance_after, paid_at)
    SELECT md5('pay ' || r.id)::uuid, r.id, r.user_id, r.concert_id, r.show_id, r.date, r.seat_number, r.price, 0, r.created_at
    FROM reservations r WHERE r.status = 'CONFIRMED';
  UPDATE reservations SET payment_id = md5('pay ' || id)::uuid WHERE status = 'CONFIRMED';
  INSERT INTO wallet_transactions (id, user_id, type, amount, balance_after, created_at)
    SELECT md5('tx ' || n)::uuid, md5('user ' || (n % ${USERS} + 1))::uuid, 'CHARGE', 1, 1, now()
    FROM generate_series(1, 40000) n;
  INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response, created_at)
    SELECT md5('user ' || (n % ${USERS} + 1))::uuid, 'key ' || n, 'h', 200, '{}', now() - (n % 48) * interval '1 hour'
    FROM generate_series(1, 40000) n;
`;

/**
 * A pool of one connection on which every plan the services' statements get, nested ones inside
 * the SQL functions included, comes back to `plans` as a LOG message; with `analyze`, each node
 * also says how many rows it read and threw away.
 */
function explainingPool(url: URL, plans: string[], analyze = false): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url.toString(),
    max: 1,
    options:
      '-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0 ' +
      `-c auto_explain.log_nested_statements=on -c auto_explain.log_analyze=${analyze} ` +
      '-c client_min_messages=log',
  });
  pool.on('connect', (client) => {
    client.on('notice', (notice) => {
      if (notice.message?.includes('plan:')) plans.push(notice.message);
    });
  });
  return pool;
}

/** The services whose statements are checked, as the app builds them, on the explaining pool. */
function services(db: Db) {
  const concerts = new ConcertsService(db);
  const reservations = new ReservationsService(
    db,
    concerts,
    { holdTtlMs: 300_000, maxHoldsPerUser: 50 },
    noSeatChanges,
  );
  return {
    concerts,
    reservations,
    payments: new PaymentsService(db),
    wallet: new WalletService(db),
    silent: { warn: () => {} } as never,
  };
}

async function firstBuyer(db: Db): Promise<string> {
  return rowsOf<{ id: string }>(await db.execute(sql.raw(`SELECT ${user(1)} AS id`)))[0]!.id;
}

/** A fresh, migrated database of its own, and the address to reach it without the app's pool. */
async function scratchDatabase(): Promise<{ database: Database; url: URL }> {
  let url: URL | undefined;
  const database = await openScratchDatabase(serverUrls.database!, (u) => {
    url = u;
    return u;
  });
  return { database, url: url! };
}

describe.skipIf(!serverUrls.database)('query plans on a never-analysed database', () => {
  let database: Database;
  let pool: pg.Pool;
  let db: Db;
  const plans: string[] = [];

  beforeAll(async () => {
    let url: URL;
    ({ database, url } = await scratchDatabase());
    // Seeded on a connection of its own: the app's pool has a statement timeout, and the seed is
    // one long statement on a machine that may be busy.
    const seeder = new pg.Client({ connectionString: url.toString() });
    await seeder.connect();
    try {
      for (const table of TABLES) await seeder.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
      await seeder.query(SEED);
    } finally {
      await seeder.end();
    }
    pool = explainingPool(url, plans);
    db = drizzle({ client: pool, schema }) as unknown as Db;
  }, 120_000);

  afterAll(async () => {
    await pool?.end();
    await database?.close();
  });

  test('when nothing has gathered statistics yet, then every hot-path statement uses an index', async () => {
    const analysed = rowsOf<{ relname: string }>(
      await db.execute(sql`SELECT relname FROM pg_class WHERE relname IN ${TABLES} AND reltuples >= 0`),
    );
    expect(analysed).toEqual([]);

    const now = Date.now();
    const userId = await firstBuyer(db);
    const { concerts, reservations, payments, wallet, silent } = services(db);
    const date = '2099-10-01'; // show 273: no reservation yet
    const stadiumDate = '2099-01-02';

    const paths: Record<string, () => Promise<unknown>> = {
      hold: () => reservations.hold(userId, { concertId: CONCERT, date, seatNumber: 1 }, now),
      'hold refused': () =>
        reservations.hold(userId, { concertId: CONCERT, date, seatNumber: 1 }, now).catch(() => {}),
      pay: async () => {
        const held = await reservations.hold(userId, { concertId: CONCERT, date, seatNumber: 2 }, now);
        plans.length = 0;
        return payments.pay(userId, CONCERT, [held[0]!.reservationId], now, 'pay-key', 'fp');
      },
      cancel: async () => {
        const held = await reservations.hold(userId, { concertId: CONCERT, date, seatNumber: 3 }, now);
        plans.length = 0;
        return reservations.cancel(userId, held[0]!.reservationId, now);
      },
      charge: () => wallet.charge(userId, 100, now, 'charge-key', 'fp'),
      replay: () => storedOutcome(db, { userId, key: 'charge-key', fingerprint: 'fp' }),
      balance: () => wallet.balance(userId),
      history: () => wallet.history(userId),
      reservations: () => reservations.list(userId, now),
      payments: () => payments.list(userId),
      'seat map': () => concerts.seatMap(CONCERT, date, undefined, now),
      // A 100,000-seat show (the stadium's second date), its plan and a sale half done.
      'best available in a section': () =>
        reservations.hold(userId, { concertId: STADIUM, date: stadiumDate, quantity: 2, section: 'S7' }, now),
      'best available in a grade': () =>
        reservations.hold(userId, { concertId: STADIUM, date: stadiumDate, quantity: 3, grade: 'R' }, now),
      'best available in the show': () =>
        reservations.hold(userId, { concertId: STADIUM, date: stadiumDate, quantity: 4 }, now),
      'best available, no run left': () =>
        reservations
          .hold(userId, { concertId: STADIUM, date: stadiumDate, quantity: 50, section: 'S19' }, now)
          .catch(() => {}),
      'these seats of 100,000': () =>
        reservations.hold(
          userId,
          { concertId: STADIUM, date: stadiumDate, seatNumbers: [97_501, 97_502, 97_503] },
          now,
        ),
      'these seats, refused': () =>
        reservations
          .hold(userId, { concertId: STADIUM, date: stadiumDate, seatNumbers: [1, 97_600] }, now)
          .catch(() => {}),
      'pay several': async () => {
        const held = await reservations.hold(
          userId,
          { concertId: STADIUM, date: stadiumDate, seatNumbers: [99_001, 99_002, 99_003] },
          now,
        );
        plans.length = 0;
        return payments.pay(
          userId,
          STADIUM,
          held.map((h) => h.reservationId),
          now,
          'pay-several',
          'fp',
        );
      },
      sections: () => new ConcertsService(db).sections(STADIUM, stadiumDate, now),
      'section seat map': () => new ConcertsService(db).seatMap(STADIUM, stadiumDate, 'S12', now),
      'dates list': () => concerts.availableDates(CONCERT, now),
      sweeper: () => new HoldSweeper(reservations, { now: () => now }, silent).sweep(),
      purge: () => new IdempotencyPurge(db, { now: () => now }, silent).purge(),
    };
    const scans: Record<string, string[]> = {};
    for (const [name, run] of Object.entries(paths)) {
      plans.length = 0;
      await run();
      expect(plans.length, `${name}: no plan was logged`).toBeGreaterThan(0);
      const seq = plans.filter((p) => /Seq Scan/.test(p));
      if (seq.length > 0) scans[name] = seq;
    }
    expect(scans).toEqual({});
  }, 120_000);

  test('when a concert is created, then statistics are gathered for the seats it wrote', async () => {
    await new ConcertsService(db).create(
      { title: 'new', venue: 'hall', dates: [{ date: '2099-06-01', seats: 200, price: 1000 }] },
      Date.now(),
    );
    const [seats] = rowsOf<{ reltuples: number }>(
      await db.execute(sql`SELECT reltuples FROM pg_class WHERE relname = 'seats'`),
    );
    expect(seats!.reltuples).toBeGreaterThan(100_000);
  });
});

/**
 * A statement prepared once per connection (the services' hot paths, and every statement inside
 * the SQL functions) is planned afresh for its first five runs; after that PostgreSQL may keep one
 * generic plan for the life of the connection. Made while the tables were still empty, that plan
 * can pick an index that is as good as any on an empty table and reads every row later: the
 * buyer's live-hold count once chose the index of all live holds by expiry and read each of them,
 * so every hold of a sale cost more than the last.
 */
describe.skipIf(!serverUrls.database)('query plans made while the tables were empty', () => {
  let database: Database;
  let pool: pg.Pool;
  let seeder: pg.Client;
  let db: Db;
  const plans: string[] = [];

  beforeAll(async () => {
    let url: URL;
    ({ database, url } = await scratchDatabase());
    seeder = new pg.Client({ connectionString: url.toString() });
    await seeder.connect();
    for (const table of TABLES) await seeder.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
    await seeder.query(`
      INSERT INTO users (id, name, created_at) SELECT md5('user ' || n)::uuid, 'u', now()
        FROM generate_series(1, ${USERS}) n;
      INSERT INTO wallets (user_id, balance) SELECT id, 1000000 FROM users;
      INSERT INTO concerts (id, title, venue, created_at) VALUES ('${CONCERT}', 'big', 'hall', now());
      INSERT INTO shows (id, concert_id, date, total_seats)
        SELECT md5('show ' || n)::uuid, '${CONCERT}', date '2099-01-01' + n, ${SEATS}
        FROM generate_series(0, ${SHOWS - 1}) n;
      INSERT INTO seats (show_id, seat_number, price, section_no, row_no, number_in_row)
        SELECT s.id, k, 1000, 0, 1, k FROM shows s, generate_series(1, ${SEATS}) k;
      INSERT INTO show_sections (show_id, section_no, name, grade, price, first_seat, last_seat, row_seats)
        SELECT id, 0, 'A', 'R', 1000, 1, ${SEATS}, ARRAY[${SEATS}]::smallint[] FROM shows;
    `);
    pool = explainingPool(url, plans, true);
    db = drizzle({ client: pool, schema }) as unknown as Db;
  }, 120_000);

  afterAll(async () => {
    await seeder?.end();
    await pool?.end();
    await database?.close();
  });

  test('when a sale fills the tables after the plans were made, then no hot-path statement reads the rows of other buyers', async () => {
    const now = Date.now();
    const buyer = await firstBuyer(db);
    const { reservations, payments, wallet, silent } = services(db);
    let seat = 0;
    const hold = () =>
      reservations.hold(buyer, { concertId: CONCERT, date: '2099-01-01', seatNumber: ++seat }, now);
    const paths: Record<string, () => Promise<unknown>> = {
      hold,
      pay: async () =>
        payments.pay(buyer, CONCERT, [(await hold())[0]!.reservationId], now, `pay ${seat}`, 'fp'),
      cancel: async () => reservations.cancel(buyer, (await hold())[0]!.reservationId, now),
      charge: () => wallet.charge(buyer, 100, now, `charge ${seat++}`, 'fp'),
      reservations: () => reservations.list(buyer, now),
      payments: () => payments.list(buyer),
      // A service of their own each time, so no answer comes from its cache of rendered reads.
      'seat map': () => new ConcertsService(db).seatMap(CONCERT, '2099-01-02', undefined, now),
      'dates list': () => new ConcertsService(db).availableDates(CONCERT, now),
      sweeper: () => new HoldSweeper(reservations, { now: () => now }, silent).sweep(),
    };

    // The first runs of each path, on one connection, while nobody else holds anything: past the
    // five runs after which a generic plan may be kept.
    for (let run = 0; run < 8; run++) for (const path of Object.values(paths)) await path();
    // Then the sale: 40,000 live holds of other buyers.
    await seeder.query(`
      INSERT INTO reservations (id, user_id, concert_id, show_id, date, seat_number, price, status, hold_expires_at, created_at)
        SELECT md5('res ' || i)::uuid, md5('user ' || (i % ${USERS - 1} + 2))::uuid, '${CONCERT}',
               md5('show ' || (i / ${SEATS} + 1))::uuid, date '2099-01-02' + i / ${SEATS}, i % ${SEATS} + 1, 1000,
               'HELD', now() + interval '5 minutes', now()
        FROM generate_series(0, 39999) i;
    `);

    const discarded: Record<string, number> = {};
    for (const [name, run] of Object.entries(paths)) {
      plans.length = 0;
      await run();
      expect(plans.length, `${name}: no plan was logged`).toBeGreaterThan(0);
      const most = Math.max(
        0,
        ...plans.flatMap((p) =>
          [...p.matchAll(/Rows Removed by (?:Filter|Index Recheck): (\d+)/g)].map((m) => Number(m[1])),
        ),
      );
      if (most > 100) discarded[name] = most;
    }
    expect(discarded).toEqual({});
  }, 120_000);
});
