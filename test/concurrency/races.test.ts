import { describe, expect, test } from 'vitest';
import { announceSkips, backends } from '../helpers/backends.js';
import { ADMIN_KEY, type TestContext, type User, useService } from '../helpers/context.js';

announceSkips('concurrency');

/** `n` users admitted to the concert at once, each with `balance` won. */
async function admittedBuyers(s: TestContext, concertId: string, n: number, balance = 0) {
  const buyers = await Promise.all(
    Array.from({ length: n }, async () => {
      const user = await s.newUser();
      if (balance > 0) await s.charge(user, balance);
      const joined = await s.join(user, concertId);
      if (joined.status !== 201) throw new Error(`join: ${joined.status} ${JSON.stringify(joined.body)}`);
      return { user, queueToken: joined.body.token as string };
    }),
  );
  await s.advance(concertId);
  return buyers;
}

function countBy<T>(items: T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

async function ledgerOf(s: TestContext, user: User) {
  const balance = (await s.call('GET', '/api/v1/balance', { user })).body.balance as number;
  const history = (await s.call('GET', '/api/v1/balance/history', { user })).body as { amount: number }[];
  return { balance, history, sum: history.reduce((total, h) => total + h.amount, 0) };
}

describe.each(backends)('races on $name', (backend) => {
  const service = useService(backend);

  test('when 200 buyers hold the same seat at once, then exactly one gets it', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const buyers = await admittedBuyers(s, concertId, 200);
    const results = await Promise.all(buyers.map((b) => s.hold(b, concertId, dates[0]!, 25)));
    const statuses = countBy(results.map((r) => `${r.status} ${r.body.code ?? ''}`.trim()));
    expect(Object.fromEntries(statuses)).toEqual({ '201': 1, '409 SEAT_UNAVAILABLE': 199 });
    const map = await s.call('GET', `/api/v1/concerts/${concertId}/dates/${dates[0]}/seats`, buyers[0]!);
    expect(map.body.seats[24].status).toBe('HELD');
    expect(map.body.availableSeats).toBe(49);
  });

  test('when 100 charges of one user land at once, then none is lost and the history sums to the balance', async () => {
    const s = service();
    const user = await s.newUser();
    const amounts = Array.from({ length: 100 }, (_, i) => 1000 + i);
    const results = await Promise.all(amounts.map((amount) => s.charge(user, amount)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const expected = amounts.reduce((a, b) => a + b, 0);
    const { balance, history, sum } = await ledgerOf(s, user);
    expect(balance).toBe(expected);
    expect(history).toHaveLength(100);
    expect(sum).toBe(expected);
    // Every charge saw a different balance: the increments were serialised, not overwritten.
    expect(new Set(results.map((r) => r.body.balance)).size).toBe(100);
  });

  test('when one reservation is paid twice at once, then there is one payment and one debit', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert({ price: 70_000 });
    const [buyer] = await admittedBuyers(s, concertId, 1, 1_000_000);
    const held = await s.hold(buyer!, concertId, dates[0]!, 3);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => s.pay(buyer!, held.body.reservationId)),
    );
    const ok = results.filter((r) => r.status === 201);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 201)) {
      // The loser either finds the reservation paid, or the token already expired by the purchase.
      expect(['RESERVATION_NOT_HELD', 'QUEUE_TOKEN_EXPIRED']).toContain(r.body.code);
    }
    expect((await s.call('GET', '/api/v1/payments', { user: buyer!.user })).body).toHaveLength(1);
    const { balance, sum } = await ledgerOf(s, buyer!.user);
    expect(balance).toBe(930_000);
    expect(sum).toBe(balance);
  });

  test('when the same payment is retried at once with one key, then every retry gets the one payment', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert({ price: 50_000 });
    const [buyer] = await admittedBuyers(s, concertId, 1, 200_000);
    const held = await s.hold(buyer!, concertId, dates[0]!, 4);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => s.pay(buyer!, held.body.reservationId, 'same-key')),
    );
    const first = results.find((r) => r.status === 201)!;
    for (const r of results) {
      // A retry either waits for the first and replays it, or — arriving after the purchase
      // expired the queue token — is answered from the stored response before the gate.
      expect(r.status).toBe(201);
      expect(r.body).toEqual(first.body);
    }
    expect((await ledgerOf(s, buyer!.user)).balance).toBe(150_000);
  });

  test('when one buyer fires 10 holds at once with a limit of 4, then exactly 4 are granted', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const [buyer] = await admittedBuyers(s, concertId, 1);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => s.hold(buyer!, concertId, dates[0]!, i + 1)),
    );
    const statuses = countBy(results.map((r) => `${r.status} ${r.body.code ?? ''}`.trim()));
    expect(Object.fromEntries(statuses)).toEqual({ '201': 4, '409 HOLD_LIMIT_REACHED': 6 });
  });

  test('when 50 buyers race for 10 seats and pay, then each seat is sold once and money adds up', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert({ seats: 10, price: 30_000 });
    const buyers = await admittedBuyers(s, concertId, 50, 100_000);
    await Promise.all(
      buyers.map(async (b, i) => {
        for (let attempt = 0; attempt < 10; attempt++) {
          const seat = ((i + attempt) % 10) + 1;
          const held = await s.hold(b, concertId, dates[0]!, seat);
          if (held.status === 201) {
            await s.pay(b, held.body.reservationId);
            return;
          }
        }
      }),
    );
    const paid = [];
    let total = 0;
    for (const b of buyers) {
      const payments = (await s.call('GET', '/api/v1/payments', { user: b.user })).body as {
        seatNumber: number;
      }[];
      paid.push(...payments.map((p) => p.seatNumber));
      const { balance, sum } = await ledgerOf(s, b.user);
      expect(sum).toBe(balance);
      expect(balance).toBe(100_000 - payments.length * 30_000);
      total += balance;
    }
    expect(paid.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(total).toBe(50 * 100_000 - 10 * 30_000);
  });
});

describe.each(backends)('active limit under churn on $name', (backend) => {
  const service = useService(backend, {
    env: { QUEUE_MAX_ACTIVE: '5', QUEUE_ADMIT_PER_SECOND: '3', QUEUE_ACTIVE_TTL_SECONDS: '4' },
  });

  test('when tokens expire and purchases free slots, then never more than QUEUE_MAX_ACTIVE are active', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert({ price: 10_000 });
    const buyers = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const user = await s.newUser();
        await s.charge(user, 100_000);
        return { user, queueToken: (await s.join(user, concertId)).body.token as string, done: false };
      }),
    );
    const admin = { headers: { 'admin-key': ADMIN_KEY } };
    let seat = 0;
    let maxSeen = 0;
    for (let step = 0; step < 60 && buyers.some((b) => !b.done); step++) {
      s.clock.advance(500);
      // Admission steps race with purchases and with status polls.
      const statuses = await Promise.all([
        s.advance(concertId),
        s.advance(concertId),
        ...buyers
          .filter((b) => !b.done)
          .map(async (b) => {
            const st = (await s.call('GET', '/api/v1/queue/status', { queueToken: b.queueToken })).body
              .status;
            if (st === 'EXPIRED') b.done = true;
            // Every other admitted buyer buys at once; the rest let their window lapse.
            if (st === 'ACTIVE' && buyers.indexOf(b) % 2 === 0 && seat < 50) {
              const held = await s.hold(b, concertId, dates[0]!, ++seat);
              if (held.status === 201) await s.pay(b, held.body.reservationId);
            }
            return st;
          }),
      ]);
      const active = statuses.filter((st) => st === 'ACTIVE').length;
      const reported = (await s.call('GET', `/api/v1/admin/concerts/${concertId}/queue`, admin)).body.active;
      maxSeen = Math.max(maxSeen, active, reported);
      expect(active).toBeLessThanOrEqual(5);
      expect(reported).toBeLessThanOrEqual(5);
    }
    expect(maxSeen).toBe(5);
    expect(buyers.every((b) => b.done)).toBe(true);
  });
});
