import { describe, expect, test } from 'vitest';
import { announceSkips, backends } from '../helpers/backends.js';
import { useService } from '../helpers/context.js';

announceSkips('buyer journey');

describe.each(backends)('buyer journey on $name', (backend) => {
  const service = useService(backend);

  test('when a buyer goes from joining to paying, then the seat is theirs and the money adds up', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert({ dates: 2, price: 120_000 });

    const concerts = await s.call('GET', '/api/v1/concerts');
    expect(concerts.status).toBe(200);
    expect(concerts.body).toEqual([
      { concertId, title: 'Test Concert', venue: 'Test Hall', dates, saleOpensAt: null },
    ]);

    const user = await s.newUser('Kim');
    expect(user.userId).toMatch(/^[0-9a-f-]{36}$/);
    const joined = await s.join(user, concertId);
    expect(joined.status).toBe(201);
    expect(joined.body).toMatchObject({ concertId, status: 'WAITING', position: 1, activeUntil: null });
    expect(joined.body.estimatedWaitSeconds).toBeGreaterThanOrEqual(1);
    const queueToken = joined.body.token;

    const again = await s.join(user, concertId);
    expect(again.status).toBe(200);
    expect(again.body.token).toBe(queueToken);

    await s.advance(concertId);
    const status = await s.call('GET', '/api/v1/queue/status', { queueToken });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ status: 'ACTIVE', position: null, estimatedWaitSeconds: null });
    expect(Date.parse(status.body.activeUntil)).toBe(s.clock.now() + s.config.queueActiveTtlMs);

    const buyer = { user, queueToken };
    const dateList = await s.call('GET', `/api/v1/concerts/${concertId}/dates`, buyer);
    expect(dateList.status).toBe(200);
    expect(dateList.body).toEqual(dates.map((date) => ({ date, totalSeats: 50, availableSeats: 50 })));

    const map = await s.call('GET', `/api/v1/concerts/${concertId}/dates/${dates[0]}/seats`, buyer);
    expect(map.status).toBe(200);
    expect(map.body.seats).toHaveLength(50);
    expect(map.body.seats[0]).toEqual({
      seatNumber: 1,
      section: 'A',
      row: 1,
      number: 1,
      grade: 'R',
      price: 120_000,
      status: 'AVAILABLE',
    });

    const held = await s.hold(buyer, concertId, dates[0]!, 7);
    expect(held.status).toBe(201);
    expect(held.body).toMatchObject({
      concertId,
      date: dates[0],
      seatNumber: 7,
      price: 120_000,
      status: 'HELD',
    });
    expect(Date.parse(held.body.holdExpiresAt)).toBe(s.clock.now() + 300_000);

    const after = await s.call('GET', `/api/v1/concerts/${concertId}/dates/${dates[0]}/seats`, buyer);
    expect(after.body.seats[6].status).toBe('HELD');
    expect(after.body.availableSeats).toBe(49);

    const short = await s.pay(buyer, held.body.reservationId);
    expect(short.status).toBe(409);
    expect(short.body.code).toBe('INSUFFICIENT_BALANCE');

    const charged = await s.charge(user, 150_000);
    expect(charged.status).toBe(200);
    expect(charged.body).toMatchObject({ userId: user.userId, balance: 150_000, charged: 150_000 });

    const paid = await s.pay(buyer, held.body.reservationId);
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({
      reservationId: held.body.reservationId,
      concertId,
      date: dates[0],
      seatNumber: 7,
      amount: 120_000,
      balance: 30_000,
    });

    const reservation = await s.call('GET', `/api/v1/reservations/${held.body.reservationId}`, { user });
    expect(reservation.body.status).toBe('CONFIRMED');
    const sold = await s.call('GET', `/api/v1/concerts/${concertId}/dates/${dates[0]}/seats`, buyer);
    expect(sold.status).toBe(401); // the purchase expired the queue token at once
    expect(sold.body.code).toBe('QUEUE_TOKEN_EXPIRED');
    expect((await s.call('GET', '/api/v1/queue/status', { queueToken })).body.status).toBe('EXPIRED');

    const balance = await s.call('GET', '/api/v1/balance', { user });
    expect(balance.body).toEqual({ userId: user.userId, balance: 30_000 });
    const history = await s.call('GET', '/api/v1/balance/history', { user });
    expect(history.body.map((h: { type: string; amount: number }) => [h.type, h.amount])).toEqual([
      ['PAYMENT', -120_000],
      ['CHARGE', 150_000],
    ]);
    expect(history.body[0].balanceAfter).toBe(30_000);

    const payments = await s.call('GET', '/api/v1/payments', { user });
    expect(payments.body).toEqual([paid.body]);
    const reservations = await s.call('GET', '/api/v1/reservations', { user });
    expect(reservations.body).toHaveLength(1);

    // Rejoining after the purchase is a new token at the back of the line.
    const rejoined = await s.join(user, concertId);
    expect(rejoined.status).toBe(201);
    expect(rejoined.body.token).not.toBe(queueToken);
  });

  test('when a buyer holds two seats, then paying the first keeps the token and paying the second ends it', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const buyer = await s.activeBuyer(concertId, 1_000_000);
    const a = await s.hold(buyer, concertId, dates[0]!, 1);
    const b = await s.hold(buyer, concertId, dates[0]!, 2);
    expect((await s.pay(buyer, a.body.reservationId)).status).toBe(201);
    expect((await s.call('GET', '/api/v1/queue/status', { queueToken: buyer.queueToken })).body.status).toBe(
      'ACTIVE',
    );
    expect((await s.pay(buyer, b.body.reservationId)).status).toBe(201);
    expect((await s.call('GET', '/api/v1/queue/status', { queueToken: buyer.queueToken })).body.status).toBe(
      'EXPIRED',
    );
  });

  test('when a hold is cancelled, then its seat is available at once and it cannot be cancelled or paid again', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const buyer = await s.activeBuyer(concertId, 1_000_000);
    const held = await s.hold(buyer, concertId, dates[0]!, 3);
    const url = `/api/v1/reservations/${held.body.reservationId}`;

    expect((await s.call('DELETE', url, { user: buyer.user })).status).toBe(204);
    expect((await s.call('GET', url, { user: buyer.user })).body.status).toBe('CANCELLED');
    const map = await s.call('GET', `/api/v1/concerts/${concertId}/dates/${dates[0]}/seats`, buyer);
    expect(map.body.seats[2].status).toBe('AVAILABLE');

    const twice = await s.call('DELETE', url, { user: buyer.user });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('RESERVATION_NOT_HELD');
    const pay = await s.pay(buyer, held.body.reservationId);
    expect(pay.status).toBe(409);
    expect(pay.body.code).toBe('RESERVATION_NOT_HELD');

    const other = await s.activeBuyer(concertId);
    expect((await s.hold(other, concertId, dates[0]!, 3)).status).toBe(201);
  });

  test('when a hold lapses, then the seat is free that instant, the reservation reads EXPIRED and paying it is 410', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const buyer = await s.activeBuyer(concertId, 1_000_000);
    const held = await s.hold(buyer, concertId, dates[0]!, 5);

    s.clock.advance(300_000); // exactly HOLD_TTL_SECONDS later; no sweeper has run
    const map = await s.call('GET', `/api/v1/concerts/${concertId}/dates/${dates[0]}/seats`, buyer);
    expect(map.body.seats[4].status).toBe('AVAILABLE');
    const read = await s.call('GET', `/api/v1/reservations/${held.body.reservationId}`, { user: buyer.user });
    expect(read.body.status).toBe('EXPIRED');

    const pay = await s.pay(buyer, held.body.reservationId);
    expect(pay.status).toBe(410);
    expect(pay.body.code).toBe('HOLD_EXPIRED');
    expect((await s.call('GET', '/api/v1/balance', { user: buyer.user })).body.balance).toBe(1_000_000);

    const cancel = await s.call('DELETE', `/api/v1/reservations/${held.body.reservationId}`, {
      user: buyer.user,
    });
    expect(cancel.body.code).toBe('RESERVATION_NOT_HELD');

    const other = await s.activeBuyer(concertId, 1_000_000);
    const taken = await s.hold(other, concertId, dates[0]!, 5);
    expect(taken.status).toBe(201);
    // Even after someone else took the seat, the first buyer's payment stays refused.
    expect((await s.pay(buyer, held.body.reservationId)).status).toBe(410);
    expect((await s.pay(other, taken.body.reservationId)).status).toBe(201);
  });

  test('when a seat is held or sold, then holding it is 409 SEAT_UNAVAILABLE', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const a = await s.activeBuyer(concertId, 1_000_000);
    const b = await s.activeBuyer(concertId, 1_000_000);
    const held = await s.hold(a, concertId, dates[0]!, 9);
    const refused = await s.hold(b, concertId, dates[0]!, 9);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('SEAT_UNAVAILABLE');
    await s.pay(a, held.body.reservationId);
    expect((await s.hold(b, concertId, dates[0]!, 9)).body.code).toBe('SEAT_UNAVAILABLE');
  });

  test('when a buyer holds MAX_HOLDS_PER_USER seats, then the next hold is 409 HOLD_LIMIT_REACHED until one is let go', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const buyer = await s.activeBuyer(concertId);
    const holds = [];
    for (let seat = 1; seat <= 4; seat++) holds.push(await s.hold(buyer, concertId, dates[0]!, seat));
    expect(holds.map((h) => h.status)).toEqual([201, 201, 201, 201]);
    const fifth = await s.hold(buyer, concertId, dates[0]!, 5);
    expect(fifth.status).toBe(409);
    expect(fifth.body.code).toBe('HOLD_LIMIT_REACHED');
    await s.call('DELETE', `/api/v1/reservations/${holds[0]!.body.reservationId}`, { user: buyer.user });
    expect((await s.hold(buyer, concertId, dates[0]!, 5)).status).toBe(201);
  });

  test('when the seat number is outside the show, then it is 400 and unknown concerts and dates are 404', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert({ seats: 20 });
    const buyer = await s.activeBuyer(concertId);
    const outside = await s.hold(buyer, concertId, dates[0]!, 21);
    expect(outside.status).toBe(400);
    expect(outside.body.code).toBe('VALIDATION_FAILED');
    const noDate = await s.hold(buyer, concertId, '2027-06-01', 1);
    expect(noDate.status).toBe(404);
    expect(noDate.body.code).toBe('DATE_NOT_FOUND');
    const seats = await s.call('GET', `/api/v1/concerts/${concertId}/dates/2027-06-01/seats`, buyer);
    expect(seats.body.code).toBe('DATE_NOT_FOUND');

    const user = await s.newUser();
    const unknown = await s.join(user, '00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('CONCERT_NOT_FOUND');
  });

  test('when another user asks for a reservation, then it is 404 RESERVATION_NOT_FOUND', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const owner = await s.activeBuyer(concertId, 1_000_000);
    const stranger = await s.activeBuyer(concertId, 1_000_000);
    const held = await s.hold(owner, concertId, dates[0]!, 1);
    const url = `/api/v1/reservations/${held.body.reservationId}`;
    for (const res of [
      await s.call('GET', url, { user: stranger.user }),
      await s.call('DELETE', url, { user: stranger.user }),
      await s.pay(stranger, held.body.reservationId),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('RESERVATION_NOT_FOUND');
    }
  });

  test('when dates are listed, then sold-out dates are left out', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert({ dates: 2, seats: 1 });
    const buyer = await s.activeBuyer(concertId, 1_000_000);
    await s.hold(buyer, concertId, dates[0]!, 1);
    const list = await s.call('GET', `/api/v1/concerts/${concertId}/dates`, buyer);
    expect(list.body).toEqual([{ date: dates[1], totalSeats: 1, availableSeats: 1 }]);
  });
});
