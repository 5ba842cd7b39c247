import { describe, expect, test } from 'vitest';
import { addDays, todayUtc } from '../../src/concerts/dates.js';
import { announceSkips, backends } from '../helpers/backends.js';
import { ADMIN_KEY, type TestContext, type User, useService } from '../helpers/context.js';

announceSkips('seating races');

/**
 * Races of the seating-plan forms (issue 17), through HTTP on each backend: many buyers holding
 * overlapping sets of seats, a crowd asking best-available at one instant, one buyer firing
 * several multi-seat holds at once, and multi-seat payments racing cancels and lapses.
 */

interface Buyer {
  user: User;
  queueToken: string;
}

interface Held {
  reservationId: string;
  seatNumber: number;
  section: string;
  row: number;
  number: number;
}

const MAX_HOLDS = 4;

/** A concert of one date with this seating plan; returns its id and date. */
async function planConcert(
  s: TestContext,
  seating: { section: string; grade: string; price: number; rows: number[] }[],
): Promise<{ concertId: string; date: string }> {
  const date = addDays(todayUtc(s.clock.now()), 30);
  const res = await s.call('POST', '/api/v1/admin/concerts', {
    headers: { 'admin-key': ADMIN_KEY },
    body: { title: 'Race', venue: 'Arena', seating, dates: [{ date }] },
  });
  if (res.status !== 201) throw new Error(`concert: ${res.status} ${JSON.stringify(res.body)}`);
  return { concertId: res.body.concertId, date };
}

/** `n` users admitted to the concert at once, each with `balance` won. */
async function admittedBuyers(s: TestContext, concertId: string, n: number, balance = 0): Promise<Buyer[]> {
  const buyers: Buyer[] = [];
  // In slices, so that setting up a thousand buyers does not itself become the race.
  for (let from = 0; from < n; from += 100) {
    buyers.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(100, n - from) }, async () => {
          const user = await s.newUser();
          if (balance > 0) await s.charge(user, balance);
          const joined = await s.join(user, concertId);
          if (joined.status !== 201) throw new Error(`join: ${joined.status} ${JSON.stringify(joined.body)}`);
          return { user, queueToken: joined.body.token as string };
        }),
      )),
    );
  }
  while ((await s.advance(concertId)) > 0) s.clock.advance(1000);
  return buyers;
}

const hold = (s: TestContext, b: Buyer, concertId: string, date: string, body: object) =>
  s.call('POST', '/api/v1/reservations', {
    user: b.user,
    queueToken: b.queueToken,
    body: { concertId, date, ...body },
  });

const pay = (s: TestContext, b: Buyer, reservationIds: string[]) =>
  s.call('POST', '/api/v1/payments', { user: b.user, queueToken: b.queueToken, body: { reservationIds } });

async function seatMap(s: TestContext, b: Buyer, concertId: string, date: string, section?: string) {
  const query = section ? `?section=${encodeURIComponent(section)}` : '';
  const res = await s.call('GET', `/api/v1/concerts/${concertId}/dates/${date}/seats${query}`, b);
  expect(res.status).toBe(200);
  return res.body as {
    availableSeats: number;
    seats: { seatNumber: number; row: number; number: number; status: string }[];
  };
}

/**
 * The requests, started together but at most IN_FLIGHT at a time. The server's database pool
 * runs 20 transactions at once and lets 100 more wait for a connection; beyond that it sheds
 * load with 503 at once (db/client.ts, POOL_QUEUE_FULL). Keeping 100 in flight keeps every
 * connection busy and a queue behind it, so the database sees the same contention as a
 * thousand requests sent at once, and every answer is the hold's own verdict.
 */
const IN_FLIGHT = 100;
async function crowd<T>(tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(IN_FLIGHT, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

/** A deterministic generator (mulberry32), so a failing case can be run again. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function countBy<T>(items: T[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[String(item)] = (counts[String(item)] ?? 0) + 1;
  return counts;
}

/** Whether the seats listed still hold a free run of two side by side in one row. */
function freeRunOfTwo(seats: { seatNumber: number; row: number; status: string }[]): boolean {
  return seats.some(
    (seat, i) =>
      seat.status === 'AVAILABLE' &&
      seats[i + 1]?.status === 'AVAILABLE' &&
      seats[i + 1]!.row === seat.row &&
      seats[i + 1]!.seatNumber === seat.seatNumber + 1,
  );
}

async function ledgerOf(s: TestContext, user: User) {
  const balance = (await s.call('GET', '/api/v1/balance', { user })).body.balance as number;
  const history = (await s.call('GET', '/api/v1/balance/history', { user })).body as {
    type: string;
    amount: number;
  }[];
  return { balance, history, sum: history.reduce((total, h) => total + h.amount, 0) };
}

describe.each(backends)('seating races on $name', (backend) => {
  const service = useService(backend, {
    env: { QUEUE_MAX_ACTIVE: '2000', QUEUE_ADMIT_PER_SECOND: '2000', MAX_HOLDS_PER_USER: String(MAX_HOLDS) },
  });
  // The embedded database is one connection: its races are as many, only shorter.
  const crowdSize = backend.kind === 'servers' ? 1000 : 200;

  test('when hundreds of buyers hold overlapping sets of seats at once, then each seat has one holder and each request got all or none', async () => {
    const s = service();
    // 60 seats in rows of 12; each buyer asks 1..4 seats within a window of 8, so sets overlap.
    const { concertId, date } = await planConcert(s, [
      { section: 'A', grade: 'R', price: 1000, rows: [12, 12, 12, 12, 12] },
    ]);
    const n = backend.kind === 'servers' ? 400 : 200;
    const buyers = await admittedBuyers(s, concertId, n);
    const next = random(17);
    const asks = buyers.map(() => {
      const start = 1 + Math.floor(next() * 53);
      const seats = new Set<number>();
      const size = 1 + Math.floor(next() * MAX_HOLDS);
      while (seats.size < size) seats.add(start + Math.floor(next() * 8));
      return [...seats];
    });
    const results = await crowd(
      buyers.map((b, i) => () => hold(s, b, concertId, date, { seatNumbers: asks[i] })),
    );

    const holders = new Map<number, number>();
    for (const [i, r] of results.entries()) {
      if (r.status === 201) {
        // All: exactly the seats asked, each once.
        const got = (r.body.reservations as Held[]).map((h) => h.seatNumber);
        expect(got).toEqual([...asks[i]!].sort((a, b) => a - b));
        for (const seat of got) {
          expect(holders.get(seat), `seat ${seat} granted twice`).toBeUndefined();
          holders.set(seat, i);
        }
      } else {
        expect({ status: r.status, code: r.body.code }).toEqual({ status: 409, code: 'SEAT_UNAVAILABLE' });
        // A refusal names seats of the request only.
        expect(r.body.unavailableSeats.length).toBeGreaterThan(0);
        for (const seat of r.body.unavailableSeats) expect(asks[i]).toContain(seat);
      }
    }
    expect(holders.size).toBeGreaterThan(0);
    // None: a refused buyer holds nothing at all.
    const refused = buyers.filter((_, i) => results[i]!.status !== 201);
    const leftovers = await Promise.all(
      refused.map(async (b) => (await s.call('GET', '/api/v1/reservations', { user: b.user })).body.length),
    );
    expect(leftovers.every((count) => count === 0)).toBe(true);
    // The map agrees: exactly the granted seats are HELD.
    const map = await seatMap(s, buyers[0]!, concertId, date);
    const held = map.seats.filter((seat) => seat.status === 'HELD').map((seat) => seat.seatNumber);
    expect(held).toEqual([...holders.keys()].sort((a, b) => a - b));
  }, 240_000);

  test(`when a crowd asks for the best 2 seats of one section at the same instant, then every pair is side by side, no seat twice, none refused`, async () => {
    const s = service();
    // Exactly two seats per buyer in "Floor", rows of 20; other sections before and after it.
    const rows = Array.from({ length: (2 * crowdSize) / 20 }, () => 20);
    const { concertId, date } = await planConcert(s, [
      { section: 'VIP', grade: 'VIP', price: 3000, rows: [10] },
      { section: 'Floor', grade: 'R', price: 2000, rows },
      { section: 'Back', grade: 'S', price: 1000, rows: [10] },
    ]);
    const buyers = await admittedBuyers(s, concertId, crowdSize);
    const results = await crowd(
      buyers.map((b) => () => hold(s, b, concertId, date, { quantity: 2, section: 'Floor' })),
    );
    const outcomes = countBy(results.map((r) => `${r.status} ${r.body.code ?? ''}`.trim()));
    const seen = new Set<number>();
    for (const r of results.filter((x) => x.status === 201)) {
      const [a, b] = r.body.reservations as Held[];
      expect(r.body.reservations).toHaveLength(2);
      expect([a!.section, b!.section]).toEqual(['Floor', 'Floor']);
      expect(b!.row).toBe(a!.row);
      expect(b!.number).toBe(a!.number + 1);
      expect(b!.seatNumber).toBe(a!.seatNumber + 1);
      for (const seat of [a!.seatNumber, b!.seatNumber]) {
        expect(seen.has(seat), `seat ${seat} granted twice`).toBe(false);
        seen.add(seat);
      }
    }
    const floor = await seatMap(s, buyers[0]!, concertId, date, 'Floor');
    // Every refusal came when the section had no free pair left.
    if ((outcomes['409 SEAT_UNAVAILABLE'] ?? 0) > 0) expect(freeRunOfTwo(floor.seats)).toBe(false);
    expect(outcomes).toEqual({ '201': crowdSize });
    expect(floor.availableSeats).toBe(0);
    // Nothing spilled into the other sections.
    expect((await seatMap(s, buyers[0]!, concertId, date, 'VIP')).availableSeats).toBe(10);
    expect((await seatMap(s, buyers[0]!, concertId, date, 'Back')).availableSeats).toBe(10);
  }, 300_000);

  test('when more buyers ask for 2 than a section has pairs, then exactly its pairs are granted and the rest refused', async () => {
    const s = service();
    const buyersCount = backend.kind === 'servers' ? 300 : 100;
    // 3 rows of 20 and one of 21: 40 pairs, 10 a row (the row of 21 leaves one seat over).
    const { concertId, date } = await planConcert(s, [
      { section: 'Floor', grade: 'R', price: 2000, rows: [20, 20, 20, 21] },
    ]);
    const buyers = await admittedBuyers(s, concertId, buyersCount);
    const results = await crowd(
      buyers.map((b) => () => hold(s, b, concertId, date, { quantity: 2, section: 'Floor' })),
    );
    const granted = results.filter((r) => r.status === 201);
    const seats = granted.flatMap((r) => (r.body.reservations as Held[]).map((h) => h.seatNumber));
    expect(new Set(seats).size).toBe(seats.length);
    const floor = await seatMap(s, buyers[0]!, concertId, date, 'Floor');
    expect(freeRunOfTwo(floor.seats)).toBe(false);
    expect(countBy(results.map((r) => `${r.status} ${r.body.code ?? ''}`.trim()))).toEqual({
      '201': 40,
      '409 SEAT_UNAVAILABLE': buyersCount - 40,
    });
    expect(floor.availableSeats).toBe(1);
  }, 240_000);

  test('when one buyer fires several multi-seat holds at once, then they never hold more than MAX_HOLDS_PER_USER seats', async () => {
    const s = service();
    const { concertId, date } = await planConcert(s, [
      { section: 'A', grade: 'R', price: 1000, rows: [20, 20] },
      { section: 'B', grade: 'S', price: 500, rows: [20, 20] },
    ]);
    const [buyer, other] = await admittedBuyers(s, concertId, 2);
    // Ten requests of two seats each, on distinct seats: by seats, exactly two fit in the limit.
    // Named seats are in B and best available looks in A, so no request finds another's seats
    // locked for a moment (a seat being taken counts as unavailable, by design).
    const bodies = Array.from({ length: 10 }, (_, i) =>
      i % 2 === 0 ? { seatNumbers: [41 + 2 * i, 42 + 2 * i] } : { quantity: 2, section: 'A' },
    );
    const results = await Promise.all(bodies.map((body) => hold(s, buyer!, concertId, date, body)));
    expect(countBy(results.map((r) => `${r.status} ${r.body.code ?? ''}`.trim()))).toEqual({
      '201': 2,
      '409 HOLD_LIMIT_REACHED': 8,
    });
    const live = (await s.call('GET', '/api/v1/reservations', { user: buyer!.user })).body as {
      status: string;
    }[];
    expect(live.filter((r) => r.status === 'HELD')).toHaveLength(MAX_HOLDS);

    // With three held and a mix of 1-, 2- and 3-seat asks at once, only a one-seat ask fits.
    const again = await admittedBuyers(s, concertId, 1);
    const third = again[0]!;
    expect((await hold(s, third, concertId, date, { seatNumbers: [61, 62, 63] })).status).toBe(201);
    const mixed = await Promise.all(
      [
        { quantity: 3, section: 'A' },
        { seatNumbers: [70, 71] },
        { quantity: 2, grade: 'R' },
        { seatNumber: 75 },
        { seatNumbers: [77] },
        { quantity: 1, section: 'A' },
      ].map((body) => hold(s, third, concertId, date, body)),
    );
    const heldNow = (await s.call('GET', '/api/v1/reservations', { user: third.user })).body as {
      status: string;
    }[];
    expect(heldNow.filter((r) => r.status === 'HELD')).toHaveLength(MAX_HOLDS);
    expect(mixed.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of mixed.filter((x) => x.status !== 201)) expect(r.body.code).toBe('HOLD_LIMIT_REACHED');
    // The other buyer is not held back by this one's limit.
    expect((await hold(s, other!, concertId, date, { quantity: 4, section: 'A' })).status).toBe(201);
  });

  test('when a payment of several holds races a cancel of one of them, then exactly one wins and the money is exact', async () => {
    const s = service();
    const price = 10_000;
    const { concertId, date } = await planConcert(s, [
      { section: 'A', grade: 'R', price, rows: [30, 30, 30] },
    ]);
    const buyers = await admittedBuyers(s, concertId, 30, 100_000);
    const outcomes = await Promise.all(
      buyers.map(async (b, i) => {
        const held = await hold(s, b, concertId, date, { seatNumbers: [3 * i + 1, 3 * i + 2, 3 * i + 3] });
        expect(held.status).toBe(201);
        const ids = (held.body.reservations as Held[]).map((h) => h.reservationId);
        const [paid, cancelled] = await Promise.all([
          pay(s, b, ids),
          s.call('DELETE', `/api/v1/reservations/${ids[i % 3]}`, { user: b.user }),
        ]);
        return { b, ids, paid, cancelled };
      }),
    );
    let sold = 0;
    for (const { b, ids, paid, cancelled } of outcomes) {
      const statuses = await Promise.all(
        ids.map(
          async (id) => (await s.call('GET', `/api/v1/reservations/${id}`, { user: b.user })).body.status,
        ),
      );
      const { balance, history, sum } = await ledgerOf(s, b.user);
      expect(sum).toBe(balance);
      if (paid.status === 201) {
        expect(cancelled.status).toBe(409);
        expect(cancelled.body.code).toBe('RESERVATION_NOT_HELD');
        expect(statuses).toEqual(['CONFIRMED', 'CONFIRMED', 'CONFIRMED']);
        expect(balance).toBe(100_000 - 3 * price);
        expect(history.filter((h) => h.type === 'PAYMENT')).toHaveLength(1);
        sold += 3;
      } else {
        expect(cancelled.status).toBe(204);
        expect(paid.body.code).toBe('RESERVATION_NOT_HELD');
        expect(statuses.filter((st) => st === 'CANCELLED')).toHaveLength(1);
        expect(statuses.filter((st) => st === 'HELD')).toHaveLength(2);
        expect(balance).toBe(100_000);
      }
    }
    const map = await seatMap(s, buyers[0]!, concertId, date);
    expect(map.seats.filter((seat) => seat.status === 'SOLD')).toHaveLength(sold);
  }, 120_000);

  test('when a payment of several holds races another buyer taking a lapsed one, then exactly one of them gets the seat', async () => {
    const s = service();
    const price = 10_000;
    const ttl = s.config.holdTtlMs;
    const { concertId, date } = await planConcert(s, [{ section: 'A', grade: 'R', price, rows: [40] }]);
    const [payer, payer2, taker, taker2] = await admittedBuyers(s, concertId, 4, 100_000);
    const mine = (await hold(s, payer!, concertId, date, { seatNumbers: [1, 2] })).body
      .reservations as Held[];
    const mine2 = (await hold(s, payer2!, concertId, date, { seatNumbers: [11, 12] })).body
      .reservations as Held[];

    // A millisecond before the end of the holds: the payment wins, the taker is refused.
    s.clock.advance(ttl - 1);
    const [early, blocked] = await Promise.all([
      pay(
        s,
        payer2!,
        mine2.map((h) => h.reservationId),
      ),
      hold(s, taker2!, concertId, date, { seatNumbers: [12, 13] }),
    ]);
    expect(early.status).toBe(201);
    expect(blocked.status).toBe(409);
    expect(blocked.body.unavailableSeats).toEqual([12]);

    // At the end of the hold: the hold has lapsed, the taker gets the seat, the payment is 410.
    s.clock.advance(1);
    const [late, taken] = await Promise.all([
      pay(
        s,
        payer!,
        mine.map((h) => h.reservationId),
      ),
      hold(s, taker!, concertId, date, { seatNumbers: [2, 3] }),
    ]);
    expect({ status: late.status, code: late.body.code }).toEqual({ status: 410, code: 'HOLD_EXPIRED' });
    expect(taken.status).toBe(201);
    expect((await ledgerOf(s, payer!.user)).balance).toBe(100_000);
    const payer2Ledger = await ledgerOf(s, payer2!.user);
    expect(payer2Ledger.balance).toBe(100_000 - 2 * price);
    expect(payer2Ledger.sum).toBe(payer2Ledger.balance);
    const map = await seatMap(s, taker!, concertId, date);
    expect(map.seats.slice(0, 3).map((seat) => seat.status)).toEqual(['AVAILABLE', 'HELD', 'HELD']);
    expect(map.seats.slice(10, 13).map((seat) => seat.status)).toEqual(['SOLD', 'SOLD', 'AVAILABLE']);
  });
});
