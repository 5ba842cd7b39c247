import { describe, expect, test } from 'vitest';
import { addDays, todayUtc } from '../../src/concerts/dates.js';
import { announceSkips, backends } from '../helpers/backends.js';
import { ADMIN_KEY, type TestContext, type User, useService } from '../helpers/context.js';

announceSkips('refunds and cancelled shows');

const admin = { headers: { 'admin-key': ADMIN_KEY } };

/** A buyer who holds and pays for `seats` of the show; returns the payment's answer. */
async function buySeats(
  s: TestContext,
  concertId: string,
  date: string,
  seats: number[],
  balance = 1_000_000,
) {
  const buyer = await s.activeBuyer(concertId, balance);
  const held = await s.call('POST', '/api/v1/reservations', {
    ...buyer,
    body: { concertId, date, seatNumbers: seats },
  });
  expect(held.status).toBe(201);
  const paid = await s.call('POST', '/api/v1/payments', {
    ...buyer,
    body: { reservationIds: held.body.reservations.map((r: { reservationId: string }) => r.reservationId) },
  });
  expect(paid.status).toBe(201);
  return { buyer, payment: paid.body };
}

function refund(s: TestContext, user: User, paymentId: string, key?: string) {
  return s.call('POST', `/api/v1/payments/${paymentId}/refund`, {
    user,
    ...(key ? { headers: { 'idempotency-key': key } } : {}),
  });
}

/** The balance equals the sum of its history (API.md), read from the service. */
async function expectLedgerExact(s: TestContext, user: User) {
  const balance = (await s.call('GET', '/api/v1/balance', { user })).body.balance;
  const history = (await s.call('GET', '/api/v1/balance/history', { user })).body as { amount: number }[];
  expect(history.reduce((sum, h) => sum + h.amount, 0)).toBe(balance);
  return balance as number;
}

describe.each(backends)('refunds on $name', (backend) => {
  const gateKey = 'test-gate-key-0123456789';
  const service = useService(backend, { env: { REFUND_FEE_PERCENT: '10', GATE_KEY: gateKey } });

  test('when a buyer returns a payment of two seats, then the fee is kept, the rest credited once and the seats are free at once', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert({ price: 33_333 });
    const date = dates[0]!;
    const { buyer, payment } = await buySeats(s, concertId, date, [3, 4]);
    expect(payment.amount).toBe(66_666);

    const returned = await refund(s, buyer.user, payment.paymentId, 'return-1');
    expect(returned.status).toBe(200);
    // fee = floor(66,666 × 10 / 100) = 6,666
    expect(returned.body).toEqual({
      paymentId: payment.paymentId,
      status: 'REFUNDED',
      refunded: 60_000,
      fee: 6_666,
      balance: 1_000_000 - 66_666 + 60_000,
    });
    // The same key gets the same answer; the refund happened once.
    const again = await refund(s, buyer.user, payment.paymentId, 'return-1');
    expect(again.status).toBe(200);
    expect(again.body).toEqual(returned.body);
    const second = await refund(s, buyer.user, payment.paymentId);
    expect(second.status).toBe(409);
    expect(second.body.code).toBe('ALREADY_REFUNDED');

    expect(await expectLedgerExact(s, buyer.user)).toBe(993_334);
    const history = (await s.call('GET', '/api/v1/balance/history', { user: buyer.user })).body;
    expect(history.filter((h: { type: string }) => h.type === 'REFUND')).toHaveLength(1);

    const payments = (await s.call('GET', '/api/v1/payments', { user: buyer.user })).body;
    expect(payments[0]).toMatchObject({ paymentId: payment.paymentId, status: 'REFUNDED' });
    for (const r of payment.seats) {
      const reservation = await s.call('GET', `/api/v1/reservations/${r.reservationId}`, {
        user: buyer.user,
      });
      expect(reservation.body.status).toBe('REFUNDED');
    }
    // Another buyer sees the seats free and can take them.
    const other = await s.activeBuyer(concertId);
    const map = await s.call('GET', `/api/v1/concerts/${concertId}/dates/${date}/seats`, other);
    expect(map.body.seats.slice(2, 4).map((seat: { status: string }) => seat.status)).toEqual([
      'AVAILABLE',
      'AVAILABLE',
    ]);
    expect((await s.hold(other, concertId, date, 3)).status).toBe(201);
  });

  test("when a payment is someone else's, malformed or too close to the show, then the refund is refused and nothing changes", async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const { buyer, payment } = await buySeats(s, concertId, dates[0]!, [1]);
    const stranger = await s.newUser();
    const theirs = await refund(s, stranger, payment.paymentId);
    expect(theirs.status).toBe(404);
    expect(theirs.body.code).toBe('PAYMENT_NOT_FOUND');
    expect((await refund(s, buyer.user, 'not-a-uuid')).body.code).toBe('VALIDATION_FAILED');
    const unknown = await refund(s, buyer.user, '00000000-0000-4000-8000-000000000000');
    expect(unknown.body.code).toBe('PAYMENT_NOT_FOUND');

    // A show tomorrow: refunds closed REFUND_CUTOFF_HOURS (24) before its 00:00 UTC.
    const tomorrow = addDays(todayUtc(s.clock.now()), 1);
    const soon = await s.call('POST', '/api/v1/admin/concerts', {
      ...admin,
      body: { title: 'Soon', venue: 'Hall', dates: [{ date: tomorrow, price: 10_000, seats: 10 }] },
    });
    const late = await buySeats(s, soon.body.concertId, tomorrow, [1]);
    const closed = await refund(s, late.buyer.user, late.payment.paymentId);
    expect(closed.status).toBe(409);
    expect(closed.body.code).toBe('REFUND_CLOSED');
    expect(await expectLedgerExact(s, late.buyer.user)).toBe(1_000_000 - 10_000);
    const payments = (await s.call('GET', '/api/v1/payments', { user: late.buyer.user })).body;
    expect(payments[0].status).toBe('PAID');
  });

  test('when a ticket of the payment was used at the gate, then it cannot be returned', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const { buyer, payment } = await buySeats(s, concertId, dates[0]!, [1, 2]);
    const tickets = (await s.call('GET', '/api/v1/tickets', { user: buyer.user })).body;
    const checkin = await s.call('POST', '/api/v1/gate/checkins', {
      headers: { 'gate-key': gateKey },
      body: { code: tickets[0].code },
    });
    expect(checkin.status).toBe(200);
    const refused = await refund(s, buyer.user, payment.paymentId);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('REFUND_CLOSED');
    expect(await expectLedgerExact(s, buyer.user)).toBe(1_000_000 - 200_000);
  });

  test('when one payment is returned by 30 requests at once, then exactly one refund happens and the money is exact', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert({ price: 50_000 });
    const { buyer, payment } = await buySeats(s, concertId, dates[0]!, [10, 11]);
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => refund(s, buyer.user, payment.paymentId)),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409 && a.body.code === 'ALREADY_REFUNDED')).toHaveLength(29);
    expect(await expectLedgerExact(s, buyer.user)).toBe(1_000_000 - 100_000 + 90_000);
  });

  test('when a returned seat is wanted by 20 buyers at the moment of the refund, then it is held by at most one and never sold twice', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert({ price: 20_000 });
    const date = dates[0]!;
    const { buyer, payment } = await buySeats(s, concertId, date, [5]);
    const rivals = await Promise.all(Array.from({ length: 20 }, () => s.activeBuyer(concertId, 100_000)));
    const [returned, ...holds] = await Promise.all([
      refund(s, buyer.user, payment.paymentId),
      ...rivals.map((rival) => s.hold(rival, concertId, date, 5)),
    ]);
    expect(returned!.status).toBe(200);
    const won = holds.filter((h) => h.status === 201);
    expect(won.length).toBeLessThanOrEqual(1);
    expect(holds.every((h) => h.status === 201 || h.body.code === 'SEAT_UNAVAILABLE')).toBe(true);
    // After the refund the seat can be taken (if no rival already did) and is sold once.
    const winner = won.length === 1 ? rivals[holds.indexOf(won[0]!)]! : rivals[0]!;
    const reservationId =
      won.length === 1
        ? won[0]!.body.reservationId
        : (await s.hold(winner, concertId, date, 5)).body.reservationId;
    expect((await s.pay(winner, reservationId)).status).toBe(201);
    // Read by a rival who did not buy: the winner's pass ended with its purchase.
    const reader = rivals.find((rival) => rival !== winner)!;
    const sold = await s.call('GET', `/api/v1/concerts/${concertId}/dates/${date}/seats`, reader);
    expect(sold.body.seats[4].status).toBe('SOLD');
  });
});

describe.each(backends)('cancelled shows on $name', (backend) => {
  const service = useService(backend, { backgroundJobs: true });

  test('when an operator cancels a date, then it leaves the lists, refuses holds and payments, and every payment is refunded in full once', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert({ dates: 2, price: 30_000 });
    const [date, other] = dates as [string, string];
    const bought = [];
    for (let i = 0; i < 6; i++)
      bought.push(await buySeats(s, concertId, date, [2 * i + 1, 2 * i + 2], 100_000));
    // A hold that is live when the show is cancelled ends with it.
    const holder = await s.activeBuyer(concertId, 100_000);
    const live = await s.hold(holder, concertId, date, 40);
    expect(live.status).toBe(201);
    // One buyer returns a ticket before the cancellation, and pays the fee for it.
    const early = await refund(s, bought[0]!.buyer.user, bought[0]!.payment.paymentId);
    expect(early.status).toBe(200);

    const path = `/api/v1/admin/concerts/${concertId}/dates/${date}/cancel`;
    const cancelled = await s.call('POST', path, admin);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({ date, payments: 6 });
    expect(['CANCELLING', 'CANCELLED']).toContain(cancelled.body.status);
    const twice = await s.call('POST', path, admin);
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('DATE_CANCELLED');

    // At once: the date leaves the lists, holds and payments of it are refused.
    const listed = (await s.call('GET', '/api/v1/concerts')).body[0].dates;
    expect(listed).toEqual([other]);
    const dateList = await s.call('GET', `/api/v1/concerts/${concertId}/dates`, holder);
    expect(dateList.body.map((d: { date: string }) => d.date)).toEqual([other]);
    const hold = await s.hold(holder, concertId, date, 41);
    expect(hold.status).toBe(409);
    expect(hold.body.code).toBe('DATE_CANCELLED');
    const pay = await s.pay(holder, live.body.reservationId);
    expect(pay.status).toBe(409);
    expect(['DATE_CANCELLED', 'RESERVATION_NOT_HELD']).toContain(pay.body.code);
    expect(
      (await s.call('GET', `/api/v1/reservations/${live.body.reservationId}`, { user: holder.user })).body
        .status,
    ).toBe('CANCELLED');

    // The job (background, on this instance) refunds every payment; progress is readable.
    let progress = cancelled.body;
    for (let i = 0; i < 200 && progress.status !== 'CANCELLED'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      progress = (await s.call('GET', path, admin)).body;
    }
    expect(progress).toEqual({ date, status: 'CANCELLED', payments: 6, refunded: 6 });
    for (const [i, { buyer }] of bought.entries()) {
      // In full, except the one returned by its buyer before (fee 10 % of 60,000).
      expect(await expectLedgerExact(s, buyer.user)).toBe(i === 0 ? 100_000 - 6_000 : 100_000);
    }
    const again = await refund(s, bought[1]!.buyer.user, bought[1]!.payment.paymentId);
    expect(again.body.code).toBe('ALREADY_REFUNDED');
    expect(
      (await s.call('GET', `/api/v1/admin/concerts/${concertId}/dates/${other}/cancel`, admin)).status,
    ).toBe(404);
  });
});
