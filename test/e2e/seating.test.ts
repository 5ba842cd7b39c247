import { request as httpRequest } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Service, type ServiceMode, startService } from '../../harness/service.js';
import { eventually, sleep } from '../../harness/wait.js';
import { serverUrls } from '../helpers/backends.js';
import { e2eClient, type User } from './client.js';

/**
 * A black-box walk through what API.md says of seating plans (issue 17), as walkthrough.test.ts
 * walks the rest: the real server built as `npm start` builds it, in its own process, driven
 * over HTTP. Every new form and error: admin create with `seating` (numbering section by
 * section, row by row), `…/sections`, `…/seats?section=`, the three forms of a hold, one payment
 * for several holds, and compressed answers.
 */

const ADMIN_KEY = 'e2e-seating-admin-key-0123';
// Long enough that a busy machine never lets a hold lapse between holding and paying; the
// lapse step waits for the expiry the server reported.
const HOLD_TTL_SECONDS = 10;
const MAX_HOLDS_PER_USER = 4;

interface Hold {
  reservationId: string;
  seatNumber: number;
  section: string;
  row: number;
  number: number;
  grade: string;
  price: number;
  status: string;
  holdExpiresAt: string;
}

const backends: { name: string; mode: ServiceMode }[] = [
  { name: 'embedded database, in-process queue', mode: 'embedded' },
];
const { database: databaseUrl, redis: redisUrl } = serverUrls;
if (databaseUrl && redisUrl) backends.push({ name: 'PostgreSQL server, Redis queue', mode: 'servers' });

const timeout = 120_000;

/**
 * The plan of the walk: seats 1..48 in plan order.
 *   VIP (VIP, 150,000): row 1 seats 1-4, row 2 seats 5-8
 *   R1  (R,   100,000): row 1 seats 9-11, row 2 seats 12-16
 *   R2  (R,   100,000): row 1 seats 17-18
 *   S   (S,    50,000): rows 1-3 of 10: seats 19-48
 */
const PLAN = [
  { section: 'VIP', grade: 'VIP', price: 150_000, rows: [4, 4] },
  { section: 'R1', grade: 'R', price: 100_000, rows: [3, 5] },
  { section: 'R2', grade: 'R', price: 100_000, rows: [2] },
  { section: 'S', grade: 'S', price: 50_000, rows: [10, 10, 10] },
];

/** Where each seat of PLAN is, computed independently of the server: section by section, row by row. */
function expectedSeats() {
  const seats: {
    seatNumber: number;
    section: string;
    row: number;
    number: number;
    grade: string;
    price: number;
  }[] = [];
  for (const s of PLAN)
    s.rows.forEach((count, r) => {
      for (let n = 1; n <= count; n++)
        seats.push({
          seatNumber: seats.length + 1,
          section: s.section,
          row: r + 1,
          number: n,
          grade: s.grade,
          price: s.price,
        });
    });
  return seats;
}

describe.each(backends)('API.md seating plans on the built server, $name', { timeout }, (backend) => {
  let service: Service;
  let base: string;
  const { send, expectProblem } = e2eClient(() => base);

  beforeAll(async () => {
    service = await startService({
      mode: backend.mode,
      ...(databaseUrl ? { scratchDatabase: { adminUrl: databaseUrl, prefix: 'bo_e2e_seat_' } } : {}),
      ...(redisUrl ? { redisUrl } : {}),
      adminKey: ADMIN_KEY,
      rateLimitPerMinute: null,
      seedDemo: false,
      settings: { HOLD_TTL_SECONDS, MAX_HOLDS_PER_USER, QUEUE_ADMIT_PER_SECOND: 100 },
      cluster: { readyTimeoutMs: 150_000 },
    });
    base = service.urls[0]!;
  }, 300_000);

  afterAll(async () => {
    await service?.stop();
  });

  /** A GET whose bytes are read as they came over the wire (fetch would decode them). */
  function raw(url: string, headers: Record<string, string>) {
    return new Promise<{ status: number; headers: Record<string, unknown>; bytes: Buffer }>(
      (resolve, reject) => {
        const req = httpRequest(base + url, { headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode!, headers: res.headers, bytes: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      },
    );
  }

  const admin = { headers: { 'admin-key': ADMIN_KEY } };
  const day = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
  const day2 = new Date(Date.now() + 41 * 86_400_000).toISOString().slice(0, 10);
  let concertId: string;
  let bigConcertId: string;
  const buyers: Record<string, { user: User; q: string }> = {};
  const bobHolds: Hold[] = [];

  async function newBuyer(name: string, balance = 0) {
    const user = (await send<User>('POST', '/api/v1/users', { body: { name } })).body;
    const joined = await send('POST', '/api/v1/queue/tokens', { as: user, body: { concertId } });
    expect([200, 201]).toContain(joined.status);
    const token: string = joined.body.token;
    const q = await eventually(
      async () =>
        (await send('GET', '/api/v1/queue/status', { queueToken: token })).body.status === 'ACTIVE' && token,
      { timeoutMs: 30_000, what: 'admission' },
    );
    if (balance > 0)
      expect(
        (await send('POST', '/api/v1/balance/charges', { as: user, body: { amount: balance } })).status,
      ).toBe(200);
    buyers[name] = { user, q };
    return buyers[name]!;
  }

  const hold = (name: string, body: object, date = day) =>
    send('POST', '/api/v1/reservations', {
      as: buyers[name]!.user,
      queueToken: buyers[name]!.q,
      body: { concertId, date, ...body },
    });
  const pay = (name: string, body: object, key?: string) =>
    send('POST', '/api/v1/payments', {
      as: buyers[name]!.user,
      queueToken: buyers[name]!.q,
      body,
      headers: key ? { 'idempotency-key': key } : {},
    });
  const seatsOf = (name: string, query = '', date = day, id = concertId) =>
    send('GET', `/api/v1/concerts/${id}/dates/${date}/seats${query}`, {
      as: buyers[name]!.user,
      queueToken: buyers[name]!.q,
    });
  const sectionsOf = (name: string, date = day) =>
    send('GET', `/api/v1/concerts/${concertId}/dates/${date}/sections`, {
      as: buyers[name]!.user,
      queueToken: buyers[name]!.q,
    });
  const seatStatus = async (seatNumber: number, date = day) =>
    (await seatsOf('watcher', '', date)).body.seats[seatNumber - 1].status as string;
  const ledger = async (name: string) => {
    const as = buyers[name]!.user;
    const balance = (await send('GET', '/api/v1/balance', { as })).body.balance as number;
    const history = (await send('GET', '/api/v1/balance/history', { as })).body as {
      type: string;
      amount: number;
    }[];
    return { balance, history };
  };

  it('When the operator creates a concert from a seating plan, then it has totalSeats per show; mixing forms is 400 and creates nothing', async () => {
    const before = (await send('GET', '/api/v1/concerts')).body.length;
    const mixed = await send('POST', '/api/v1/admin/concerts', {
      ...admin,
      body: { title: 'Mixed', venue: 'Arena', seating: PLAN, dates: [{ date: day, price: 1000 }] },
    });
    expectProblem(mixed, 400, 'VALIDATION_FAILED');
    expect((await send('GET', '/api/v1/concerts')).body).toHaveLength(before);

    const created = await send('POST', '/api/v1/admin/concerts', {
      ...admin,
      body: { title: 'Seating walk', venue: 'Arena', seating: PLAN, dates: [{ date: day }, { date: day2 }] },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ title: 'Seating walk', dates: [day, day2], totalSeats: 48 });
    concertId = created.body.concertId;
    service.trackConcert(concertId);

    // The simple form still works and reports its seats.
    const simple = await send('POST', '/api/v1/admin/concerts', {
      ...admin,
      body: { title: 'Simple', venue: 'Hall', dates: [{ date: day, seats: 7, price: 1000 }] },
    });
    expect(simple.status, simple.text).toBe(201);
    expect(simple.body.totalSeats).toBe(7);

    // More than 5,000 seats: 10 rows of 500 and one of 1.
    const big = await send('POST', '/api/v1/admin/concerts', {
      ...admin,
      body: {
        title: 'Big',
        venue: 'Stadium',
        seating: [{ section: 'Floor', grade: 'R', price: 1000, rows: [...Array(10).fill(500), 1] }],
        dates: [{ date: day }],
      },
    });
    expect(big.status, big.text).toBe(201);
    expect(big.body.totalSeats).toBe(5001);
    bigConcertId = big.body.concertId;
    service.trackConcert(bigConcertId);

    const report = await send('GET', `/api/v1/admin/concerts/${concertId}/seating`, admin);
    expect(report.status, report.text).toBe(200);
    expect(report.body.map((d: { date: string }) => d.date)).toEqual([day, day2]);
    expect(
      report.body[0].sections.map((s: { section: string; totalSeats: number }) => [s.section, s.totalSeats]),
    ).toEqual([
      ['VIP', 8],
      ['R1', 8],
      ['R2', 2],
      ['S', 30],
    ]);
    expectProblem(await send('GET', `/api/v1/admin/concerts/${concertId}/seating`), 401, 'UNAUTHENTICATED');
  });

  it('When the venue is looked at, then sections come in plan order and every seat has its section, row and number', async () => {
    await newBuyer('watcher');
    const sections = await sectionsOf('watcher');
    expect(sections.status, sections.text).toBe(200);
    expect(sections.body).toEqual(
      PLAN.map((s) => {
        const seats = s.rows.reduce((a, b) => a + b, 0);
        return {
          section: s.section,
          grade: s.grade,
          price: s.price,
          totalSeats: seats,
          availableSeats: seats,
        };
      }),
    );

    const map = await seatsOf('watcher');
    expect(map.status).toBe(200);
    expect(map.body.availableSeats).toBe(48);
    expect(map.body.seats).toEqual(expectedSeats().map((s) => ({ ...s, status: 'AVAILABLE' })));

    const r1 = await seatsOf('watcher', '?section=R1');
    expect(r1.status).toBe(200);
    expect(r1.body.availableSeats).toBe(8);
    expect(r1.body.seats).toEqual(
      expectedSeats()
        .filter((s) => s.section === 'R1')
        .map((s) => ({ ...s, status: 'AVAILABLE' })),
    );
    expect(r1.body.seats.map((s: { seatNumber: number }) => s.seatNumber)).toEqual([
      9, 10, 11, 12, 13, 14, 15, 16,
    ]);

    expectProblem(await seatsOf('watcher', '?section=Z9'), 404, 'SECTION_NOT_FOUND');
    expectProblem(await seatsOf('watcher', '?section='), 400, 'VALIDATION_FAILED');
    expectProblem(await seatsOf('watcher', '?section=R1&x=1'), 400, 'VALIDATION_FAILED');
  });

  it('When a show has more than 5,000 seats, then its map needs a section', async () => {
    const user = (await send<User>('POST', '/api/v1/users', { body: { name: 'big' } })).body;
    const joined = await send('POST', '/api/v1/queue/tokens', {
      as: user,
      body: { concertId: bigConcertId },
    });
    const q = await eventually(
      async () =>
        (await send('GET', '/api/v1/queue/status', { queueToken: joined.body.token })).body.status ===
          'ACTIVE' && (joined.body.token as string),
      { timeoutMs: 30_000, what: 'admission' },
    );
    buyers.big = { user, q };
    expectProblem(await seatsOf('big', '', day, bigConcertId), 400, 'VALIDATION_FAILED');
    const floor = await seatsOf('big', '?section=Floor', day, bigConcertId);
    expect(floor.status).toBe(200);
    expect(floor.body.seats).toHaveLength(5001);
    expect(floor.body.seats.at(-1)).toMatchObject({ seatNumber: 5001, row: 11, number: 1 });
    expect(floor.body.seats[500]).toMatchObject({ seatNumber: 501, row: 2, number: 1 });
  });

  it('When a client accepts br or gzip, then answers of 1 KB or more are compressed and decode to the same JSON', async () => {
    const path = `/api/v1/concerts/${concertId}/dates/${day}/seats`;
    const gate = {
      authorization: `Bearer ${buyers.watcher!.user.accessToken}`,
      'queue-token': buyers.watcher!.q,
    };
    const plain = await raw(path, gate);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.bytes.length).toBeGreaterThanOrEqual(1024);
    const json = JSON.parse(plain.bytes.toString('utf8'));

    const br = await raw(path, { ...gate, 'accept-encoding': 'br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.bytes.length).toBeLessThan(plain.bytes.length);
    expect(JSON.parse(brotliDecompressSync(br.bytes).toString('utf8'))).toEqual(json);

    const gzip = await raw(path, { ...gate, 'accept-encoding': 'gzip' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gzip.bytes).toString('utf8'))).toEqual(json);

    // A section's map, too.
    const sectionPath = `${path}?section=S`;
    const section = await raw(sectionPath, { ...gate, 'accept-encoding': 'gzip, br' });
    expect(section.headers['content-encoding']).toBe('br');
    expect(JSON.parse(brotliDecompressSync(section.bytes).toString('utf8'))).toEqual(
      JSON.parse((await raw(sectionPath, gate)).bytes.toString('utf8')),
    );

    // Under 1 KB (the venue at a glance of four sections): sent as it is.
    const small = await raw(`/api/v1/concerts/${concertId}/dates/${day}/sections`, {
      ...gate,
      'accept-encoding': 'br, gzip',
    });
    expect(small.status).toBe(200);
    expect(small.bytes.length).toBeLessThan(1024);
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(small.bytes.toString('utf8'))).toHaveLength(4);

    // Other JSON of 1 KB or more (the concert list is not pre-rendered) goes through the same rule.
    const list = await raw('/api/v1/concerts', {});
    const listGz = await raw('/api/v1/concerts', { 'accept-encoding': 'gzip' });
    if (list.bytes.length >= 1024) {
      expect(listGz.headers['content-encoding']).toBe('gzip');
      expect(JSON.parse(gunzipSync(listGz.bytes).toString('utf8'))).toEqual(
        JSON.parse(list.bytes.toString('utf8')),
      );
    } else {
      expect(listGz.headers['content-encoding']).toBeUndefined();
    }
  });

  it('When seats are held by number, then all of them or none, and a refusal names the seats taken', async () => {
    await newBuyer('alice', 400_000);
    await newBuyer('bob');
    const held = await hold('alice', { seatNumbers: [2, 1] });
    expect(held.status, held.text).toBe(201);
    expect(
      held.body.reservations.map((r: Hold) => [
        r.seatNumber,
        r.section,
        r.row,
        r.number,
        r.grade,
        r.price,
        r.status,
      ]),
    ).toEqual([
      [1, 'VIP', 1, 1, 'VIP', 150_000, 'HELD'],
      [2, 'VIP', 1, 2, 'VIP', 150_000, 'HELD'],
    ]);

    const refused = await hold('bob', { seatNumbers: [2, 3] });
    expectProblem(refused, 409, 'SEAT_UNAVAILABLE');
    expect(refused.problem.unavailableSeats).toEqual([2]);
    expect(await seatStatus(3)).toBe('AVAILABLE'); // none: seat 3 was not kept
    expect((await send('GET', '/api/v1/reservations', { as: buyers.bob!.user })).body).toEqual([]);

    // Alice holds 2; three more would make 5.
    expectProblem(await hold('alice', { seatNumbers: [20, 21, 22] }), 409, 'HOLD_LIMIT_REACHED');
    expectProblem(await hold('bob', { seatNumbers: [3, 3] }), 400, 'VALIDATION_FAILED');
    expectProblem(await hold('bob', { seatNumbers: [20, 21, 22, 23, 24] }), 400, 'VALIDATION_FAILED');
    expectProblem(await hold('bob', { seatNumbers: [49] }), 400, 'VALIDATION_FAILED');
    expectProblem(await hold('bob', { seatNumbers: [] }), 400, 'VALIDATION_FAILED');
    expectProblem(await hold('bob', { seatNumbers: [3], quantity: 1 }), 400, 'VALIDATION_FAILED');
    expect((await send('GET', '/api/v1/reservations', { as: buyers.bob!.user })).body).toEqual([]);
  });

  it('When several holds are paid at once, then one payment, one history entry, every seat sold, and a retry replays', async () => {
    const alice = buyers.alice!;
    const mine = (await send<Hold[]>('GET', '/api/v1/reservations', { as: alice.user })).body;
    const ids = mine.map((r) => r.reservationId);
    const paid = await pay('alice', { reservationIds: ids }, 'seat-pay');
    expect(paid.status, paid.text).toBe(201);
    expect(paid.body).toMatchObject({
      concertId,
      date: day,
      status: 'PAID',
      amount: 300_000,
      balance: 100_000,
    });
    expect([...paid.body.reservationIds].sort()).toEqual([...ids].sort());
    expect(paid.body.seats).toEqual(
      [1, 2].map((n) => ({
        reservationId: mine.find((r) => r.seatNumber === n)!.reservationId,
        seatNumber: n,
        section: 'VIP',
        row: 1,
        number: n,
        grade: 'VIP',
        price: 150_000,
      })),
    );
    expect(paid.body.reservationId).toBeUndefined(); // only a payment of one reservation carries it

    const replay = await pay('alice', { reservationIds: ids }, 'seat-pay');
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(paid.body);

    const { balance, history } = await ledger('alice');
    expect(balance).toBe(100_000);
    expect(history.filter((h) => h.type === 'PAYMENT')).toEqual([
      expect.objectContaining({ amount: -300_000 }),
    ]);
    expect(history.reduce((sum, h) => sum + h.amount, 0)).toBe(balance);
    const payments = (await send('GET', '/api/v1/payments', { as: alice.user })).body;
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({ paymentId: paid.body.paymentId, status: 'PAID', amount: 300_000 });
    expect(await seatStatus(1)).toBe('SOLD');
    expect(await seatStatus(2)).toBe('SOLD');
    for (const id of ids)
      expect((await send('GET', `/api/v1/reservations/${id}`, { as: alice.user })).body.status).toBe(
        'CONFIRMED',
      );
    // Alice holds nothing else: her pass is spent.
    expect((await send('GET', '/api/v1/queue/status', { queueToken: alice.q })).body.status).toBe('EXPIRED');
  });

  it('When the best seats are asked for, then the first run side by side in one row of the section, grade or show', async () => {
    await newBuyer('carol');
    // VIP row 1 has 3 and 4 left.
    const vip = await hold('bob', { quantity: 2, section: 'VIP' });
    expect(vip.status, vip.text).toBe(201);
    expect(vip.body.reservations.map((r: Hold) => [r.seatNumber, r.row, r.number])).toEqual([
      [3, 1, 3],
      [4, 1, 4],
    ]);
    // Grade R: R1 row 1 (seats 9-11) comes first.
    const r = await hold('bob', { quantity: 2, grade: 'R' });
    expect(r.status, r.text).toBe(201);
    expect(r.body.reservations.map((x: Hold) => [x.seatNumber, x.section, x.grade])).toEqual([
      [9, 'R1', 'R'],
      [10, 'R1', 'R'],
    ]);
    // Bob holds 4 seats: the limit counts seats.
    expectProblem(await hold('bob', { quantity: 1 }), 409, 'HOLD_LIMIT_REACHED');

    // The whole show, 3 side by side: VIP row 1 is gone, row 2 has 5-7.
    const show = await hold('carol', { quantity: 3 });
    expect(show.status, show.text).toBe(201);
    expect(show.body.reservations.map((x: Hold) => x.seatNumber)).toEqual([5, 6, 7]);
    // R1 row 1 has only 11 left: a run of 2 in R1 is row 2's 12-13, not 11 and 12 across rows.
    expectProblem(
      await hold('carol', { quantity: 2, section: 'R2', grade: 'VIP' }),
      400,
      'VALIDATION_FAILED',
    );
    const across = await send('POST', '/api/v1/reservations', {
      as: buyers.watcher!.user,
      queueToken: buyers.watcher!.q,
      body: { concertId, date: day, quantity: 2, section: 'R1' },
    });
    expect(across.status, across.text).toBe(201);
    expect(across.body.reservations.map((x: Hold) => [x.seatNumber, x.row, x.number])).toEqual([
      [12, 2, 1],
      [13, 2, 2],
    ]);

    bobHolds.push(...vip.body.reservations, ...r.body.reservations);
  });

  it('When no run is free or the place is unknown, then 409 or 400 and nothing is held', async () => {
    await newBuyer('dave');
    // R2 has 2 seats; VIP has only seat 8 left.
    expectProblem(await hold('dave', { quantity: 4, section: 'R2' }), 409, 'SEAT_UNAVAILABLE');
    expectProblem(await hold('dave', { quantity: 2, grade: 'VIP' }), 409, 'SEAT_UNAVAILABLE');
    expectProblem(await hold('dave', { quantity: 2, section: 'Nope' }), 400, 'VALIDATION_FAILED');
    expectProblem(await hold('dave', { quantity: 2, grade: 'Nope' }), 400, 'VALIDATION_FAILED');
    expectProblem(await hold('dave', { quantity: 0 }), 400, 'VALIDATION_FAILED');
    expectProblem(await hold('dave', { quantity: MAX_HOLDS_PER_USER + 1 }), 400, 'VALIDATION_FAILED');
    expect((await send('GET', '/api/v1/reservations', { as: buyers.dave!.user })).body).toEqual([]);
    expect(await seatStatus(8)).toBe('AVAILABLE');
  });

  it('When a payment mixes shows, names a hold that is not live or not the buyer’s, then it is refused and nothing changes', async () => {
    const dave = buyers.dave!;
    expect(
      (await send('POST', '/api/v1/balance/charges', { as: dave.user, body: { amount: 1_000_000 } })).status,
    ).toBe(200);
    const one = (await hold('dave', { seatNumbers: [30] })).body.reservations[0] as Hold;
    const other = (await hold('dave', { seatNumbers: [30] }, day2)).body.reservations[0] as Hold;
    expect([one?.seatNumber, other?.seatNumber]).toEqual([30, 30]);
    expectProblem(
      await pay('dave', { reservationIds: [one.reservationId, other.reservationId] }),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await pay('dave', { reservationIds: [one.reservationId, one.reservationId] }),
      400,
      'VALIDATION_FAILED',
    );
    const five = Array.from({ length: 5 }, (_, i) => `00000000-0000-4000-8000-00000000000${i}`);
    expectProblem(await pay('dave', { reservationIds: five }), 400, 'VALIDATION_FAILED');
    expectProblem(await pay('dave', { reservationIds: [] }), 400, 'VALIDATION_FAILED');
    // Alice's paid seats are not Dave's.
    const alices = (await send<Hold[]>('GET', '/api/v1/reservations', { as: buyers.alice!.user })).body;
    expectProblem(
      await pay('dave', { reservationIds: [one.reservationId, alices[0]!.reservationId] }),
      404,
      'RESERVATION_NOT_FOUND',
    );
    expect(await ledger('dave')).toMatchObject({ balance: 1_000_000 });
    expect(await seatStatus(30)).toBe('HELD');
    expect(await seatStatus(30, day2)).toBe('HELD');

    // Erin holds three, cancels one, then pays for all three: 409, and the other two stay held.
    await newBuyer('erin', 1_000_000);
    const erinHolds = (await hold('erin', { seatNumbers: [40, 41, 42] })).body.reservations as Hold[];
    expect(erinHolds.map((h) => h.seatNumber)).toEqual([40, 41, 42]);
    const [cancelled, ...live] = erinHolds;
    expect(
      (await send('DELETE', `/api/v1/reservations/${cancelled!.reservationId}`, { as: buyers.erin!.user }))
        .status,
    ).toBe(204);
    expectProblem(
      await pay('erin', { reservationIds: erinHolds.map((h) => h.reservationId) }),
      409,
      'RESERVATION_NOT_HELD',
    );
    expect(await ledger('erin')).toMatchObject({ balance: 1_000_000 });
    for (const h of live) expect(await seatStatus(h.seatNumber)).toBe('HELD');
    const rest = await pay('erin', { reservationIds: live.map((h) => h.reservationId) });
    expect(rest.status, rest.text).toBe(201);
    expect(rest.body.amount).toBe(100_000);
    expect(rest.body.seats.map((s: { seatNumber: number }) => s.seatNumber)).toEqual([41, 42]);
  });

  it('When one of the holds has lapsed, then the payment is 410 HOLD_EXPIRED and nothing is charged', async () => {
    const lapsing = bobHolds.slice(0, 2);
    await sleep(Math.max(0, Date.parse(lapsing[1]!.holdExpiresAt) - Date.now()) + 300);
    expect(
      (await send('POST', '/api/v1/balance/charges', { as: buyers.bob!.user, body: { amount: 1_000_000 } }))
        .status,
    ).toBe(200);
    expectProblem(
      await pay('bob', { reservationIds: lapsing.map((h) => h.reservationId) }),
      410,
      'HOLD_EXPIRED',
    );
    expect(await ledger('bob')).toMatchObject({ balance: 1_000_000 });
    for (const h of lapsing) expect(await seatStatus(h.seatNumber)).toBe('AVAILABLE');
    expect((await send('GET', '/api/v1/payments', { as: buyers.bob!.user })).body).toEqual([]);
  });
});
