import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { eventually } from '../../harness/wait.js';
import { addDays, todayUtc } from '../../src/concerts/dates.js';
import { announceSkips, backends } from '../helpers/backends.js';
import { ADMIN_KEY, type Response, type TestContext, useService } from '../helpers/context.js';

announceSkips('bad input');

function expectProblem(res: Response, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(String(res.headers['content-type'])).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, code });
  expect(typeof res.body.type).toBe('string');
  expect(typeof res.body.title).toBe('string');
  expect(typeof res.body.detail).toBe('string');
  expect(JSON.stringify(res.body)).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack trace
}

describe.each(backends)('bad input on $name', (backend) => {
  const service = useService(backend);

  test('when a charge is malformed, then it is 400 VALIDATION_FAILED and nothing is charged', async () => {
    const s = service();
    const user = await s.newUser();
    const bodies: unknown[] = [
      { amount: '100' },
      { amount: 100.5 },
      { amount: 0 },
      { amount: -5 },
      { amount: 10_000_001 },
      { amount: 1e21 },
      { amount: null },
      {},
      { amount: 100, extra: true },
      [100],
    ];
    for (const body of bodies) {
      expectProblem(
        await s.call('POST', '/api/v1/balance/charges', { user, body }),
        400,
        'VALIDATION_FAILED',
      );
    }
    const raw = await s.app.inject({
      method: 'POST',
      url: '/api/v1/balance/charges',
      headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
      payload: '{"amount": 5',
    });
    expect(raw.statusCode).toBe(400);
    expect(raw.json().code).toBe('VALIDATION_FAILED');
    const text = await s.app.inject({
      method: 'POST',
      url: '/api/v1/balance/charges',
      headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    // A body with no content type is 415; text/plain is parsed (as a string) and fails validation.
    const untyped = await s.call('POST', '/api/v1/balance/charges', { user, body: 'amount=100' });
    expectProblem(untyped, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(text.statusCode).toBe(400);
    expect(text.json().code).toBe('VALIDATION_FAILED');
    expect((await s.call('GET', '/api/v1/balance/history', { user })).body).toEqual([]);
  });

  test('when ids, dates and seat numbers are malformed, then it is 400 VALIDATION_FAILED', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const buyer = await s.activeBuyer(concertId);
    const date = dates[0]!;
    const holds: unknown[] = [
      { concertId, date, seatNumber: 0 },
      { concertId, date, seatNumber: 1.5 },
      { concertId, date, seatNumber: '3' },
      { concertId, date, seatNumber: 201 },
      { concertId, date: '2026-02-30', seatNumber: 1 },
      { concertId, date: '26-12-01', seatNumber: 1 },
      { concertId, date: '2026-12-01T00:00:00Z', seatNumber: 1 },
      { concertId: 'not-a-uuid', date, seatNumber: 1 },
      { concertId, date },
      { concertId, date, seatNumber: 1, userId: buyer.user.userId },
    ];
    for (const body of holds) {
      expectProblem(
        await s.call('POST', '/api/v1/reservations', { ...buyer, body }),
        400,
        'VALIDATION_FAILED',
      );
    }
    expectProblem(await s.call('GET', `/api/v1/concerts/nope/dates`, buyer), 400, 'VALIDATION_FAILED');
    expectProblem(
      await s.call('GET', `/api/v1/concerts/${concertId}/dates/2026-13-01/seats`, buyer),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await s.call('GET', '/api/v1/reservations/123', { user: buyer.user }),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await s.call('POST', '/api/v1/queue/tokens', { user: buyer.user, body: { concertId: 42 } }),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await s.call('POST', '/api/v1/users', { body: { name: 'x'.repeat(101) } }),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(await s.call('POST', '/api/v1/users', { body: { name: '' } }), 400, 'VALIDATION_FAILED');
    const seats = await s.call('GET', `/api/v1/concerts/${concertId}/dates/${date}/seats`, buyer);
    expect(seats.body.availableSeats).toBe(50);
  });

  test('when an idempotency key is too long or empty, then it is 400', async () => {
    const s = service();
    const user = await s.newUser();
    expectProblem(await s.charge(user, 100, 'k'.repeat(256)), 400, 'VALIDATION_FAILED');
    const empty = await s.call('POST', '/api/v1/balance/charges', {
      user,
      body: { amount: 100 },
      headers: { 'idempotency-key': '' },
    });
    expectProblem(empty, 400, 'VALIDATION_FAILED');
    expect((await s.call('GET', '/api/v1/balance', { user })).body.balance).toBe(0);
  });

  test('when a route does not exist or credentials are missing, then the problem says so', async () => {
    const s = service();
    expectProblem(await s.call('GET', '/api/v1/nothing-here'), 404, 'NOT_FOUND');
    const wrongMethod = await s.call('DELETE', '/api/v1/concerts');
    expectProblem(wrongMethod, 405, 'METHOD_NOT_ALLOWED');
    expect(wrongMethod.headers.allow).toContain('GET');
    expectProblem(await s.call('GET', '/api/v1/balance'), 401, 'UNAUTHENTICATED');
    expectProblem(
      await s.call('GET', '/api/v1/balance', { headers: { authorization: 'Bearer abc.def' } }),
      401,
      'UNAUTHENTICATED',
    );
    expectProblem(
      await s.call('GET', '/api/v1/balance', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }),
      401,
      'UNAUTHENTICATED',
    );
  });

  test('when a user creates an account with no body at all, then it still works', async () => {
    const s = service();
    const res = await s.app.inject({ method: 'POST', url: '/api/v1/users' });
    expect(res.statusCode).toBe(201);
  });

  test('when the balance would pass 1,000,000,000 won, then it is 409 BALANCE_LIMIT_EXCEEDED and nothing is charged', async () => {
    const s = service();
    const user = await s.newUser();
    for (let i = 0; i < 100; i++) expect((await s.charge(user, 10_000_000)).status).toBe(200);
    expectProblem(await s.charge(user, 1), 409, 'BALANCE_LIMIT_EXCEEDED');
    expect((await s.call('GET', '/api/v1/balance', { user })).body.balance).toBe(1_000_000_000);
    expect((await s.call('GET', '/api/v1/balance/history', { user })).body).toHaveLength(100);
  });
});

describe.each(backends)('idempotent writes on $name', (backend) => {
  const service = useService(backend);

  test('when a charge is repeated with the same key and body, then the first response comes back and it happens once', async () => {
    const s = service();
    const user = await s.newUser();
    const first = await s.charge(user, 5000, 'charge-1');
    const again = await s.charge(user, 5000, 'charge-1');
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    expect((await s.call('GET', '/api/v1/balance', { user })).body.balance).toBe(5000);

    expectProblem(await s.charge(user, 6000, 'charge-1'), 409, 'IDEMPOTENCY_KEY_REUSED');
    // Keys belong to a user: another user's same key is a different request.
    const other = await s.newUser();
    expect((await s.charge(other, 6000, 'charge-1')).status).toBe(200);
  });

  test('when a refused charge is retried with its key, then the same refusal comes back', async () => {
    const s = service();
    const user = await s.newUser();
    for (let i = 0; i < 100; i++) await s.charge(user, 10_000_000);
    const refused = await s.charge(user, 1, 'over');
    expectProblem(refused, 409, 'BALANCE_LIMIT_EXCEEDED');
    const replay = await s.charge(user, 1, 'over');
    expect(replay.status).toBe(409);
    expect(replay.body).toEqual(refused.body);
    expect(String(replay.headers['content-type'])).toContain('application/problem+json');
  });

  test('when a payment commits but giving back the queue slot fails once, then the buyer still gets 201 and the slot comes back', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const buyer = await s.activeBuyer(concertId, 500_000);
    const held = await s.hold(buyer, concertId, dates[0]!, 11);
    // The queue store drops out once, right after the payment's transaction committed.
    const leave = s.store.leave.bind(s.store);
    s.store.leave = async () => {
      s.store.leave = leave;
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    };
    const first = await s.pay(buyer, held.body.reservationId, 'pay-once');
    expect(first.status).toBe(201);
    // The release is retried in the background: the slot comes back without any request.
    const status = async () =>
      (await s.call('GET', '/api/v1/queue/status', { queueToken: buyer.queueToken })).body.status;
    await eventually(async () => (await status()) === 'EXPIRED', { what: 'the slot given back' });

    const retry = await s.pay(buyer, held.body.reservationId, 'pay-once');
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect((await s.call('GET', '/api/v1/payments', { user: buyer.user })).body).toHaveLength(1);
    expect((await s.call('GET', '/api/v1/balance', { user: buyer.user })).body.balance).toBe(400_000);
  });

  test('when a payment is retried after it expired the queue token, then the retry gets the first 201, not the gate', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const buyer = await s.activeBuyer(concertId, 500_000);
    const held = await s.hold(buyer, concertId, dates[0]!, 10);
    const first = await s.pay(buyer, held.body.reservationId, 'pay-1');
    expect(first.status).toBe(201);
    const retry = await s.pay(buyer, held.body.reservationId, 'pay-1');
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect((await s.call('GET', '/api/v1/payments', { user: buyer.user })).body).toHaveLength(1);
    expect((await s.call('GET', '/api/v1/balance', { user: buyer.user })).body.balance).toBe(400_000);
    // Without the key the same request is a new one, and the gate refuses it.
    expect((await s.pay(buyer, held.body.reservationId)).body.code).toBe('QUEUE_TOKEN_EXPIRED');
  });
});

describe.each(backends)('bad seating input on $name', (backend) => {
  const service = useService(backend);
  const admin = { 'admin-key': ADMIN_KEY };

  /** A concert with a plan: A (R) rows of 10, 10; B (S) one row of 5. Seats 1..25. */
  async function planConcert(s: TestContext) {
    const date = addDays(todayUtc(s.clock.now()), 30);
    const date2 = addDays(date, 1);
    const res = await s.call('POST', '/api/v1/admin/concerts', {
      headers: admin,
      body: {
        title: 'Plan',
        venue: 'Arena',
        seating: [
          { section: 'A', grade: 'R', price: 2000, rows: [10, 10] },
          { section: 'B', grade: 'S', price: 1000, rows: [5] },
        ],
        dates: [{ date }, { date: date2 }],
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { concertId: res.body.concertId as string, date, date2 };
  }

  test('when a seating plan is malformed, then it is 400 with a detail and no concert is created', async () => {
    const s = service();
    const date = addDays(todayUtc(s.clock.now()), 30);
    const section = { section: 'A', grade: 'R', price: 1000, rows: [10] };
    const plans: [string, unknown][] = [
      ['a duplicate section', [section, { ...section, grade: 'S' }]],
      ['no rows', [{ ...section, rows: [] }]],
      ['501 rows', [{ ...section, rows: Array(501).fill(1) }]],
      ['a row of 0 seats', [{ ...section, rows: [10, 0] }]],
      ['a row of 501 seats', [{ ...section, rows: [501] }]],
      // 200 sections of 500 one-seat rows and one more seat: 100,001.
      [
        '100,001 seats',
        [
          ...Array.from({ length: 200 }, (_, i) => ({
            ...section,
            section: `S${i}`,
            rows: Array(500).fill(1),
          })),
          { ...section, section: 'X', rows: [1] },
        ],
      ],
      ['price 0', [{ ...section, price: 0 }]],
      ['a fractional price', [{ ...section, price: 10.5 }]],
      ['a section name with NUL', [{ ...section, section: 'A\u0000' }]],
      ['a grade with NUL', [{ ...section, grade: 'R\u0000' }]],
      ['an empty section name', [{ ...section, section: '' }]],
      ['a section name of 21 characters', [{ ...section, section: 'x'.repeat(21) }]],
      ['an unknown field', [{ ...section, color: 'red' }]],
      ['no sections', []],
      ['not a list', section],
    ];
    for (const [why, seating] of plans) {
      const res = await s.call('POST', '/api/v1/admin/concerts', {
        headers: admin,
        body: { title: 'Bad plan', venue: 'Arena', seating, dates: [{ date }] },
      });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.detail.length, why).toBeGreaterThan(0);
    }
    // The two forms mixed, or neither.
    for (const dates of [
      [{ date, price: 1000 }],
      [{ date, seats: 10 }],
      [{ date, seats: 10, price: 1000 }],
    ]) {
      expectProblem(
        await s.call('POST', '/api/v1/admin/concerts', {
          headers: admin,
          body: { title: 'Mixed', venue: 'Arena', seating: [section], dates },
        }),
        400,
        'VALIDATION_FAILED',
      );
    }
    expectProblem(
      await s.call('POST', '/api/v1/admin/concerts', {
        headers: admin,
        body: { title: 'Neither', venue: 'Arena', dates: [{ date }] },
      }),
      400,
      'VALIDATION_FAILED',
    );
    expect((await s.call('GET', '/api/v1/concerts')).body).toEqual([]);
    // Exactly 100,000 seats and 500 rows of 500 are allowed (the bounds themselves).
    const atLimit = await s.call('POST', '/api/v1/admin/concerts', {
      headers: admin,
      body: {
        title: 'At the limit',
        venue: 'Stadium',
        seating: [
          { section: 'Big', grade: 'R', price: 1000, rows: Array(199).fill(500) },
          { section: 'Rest', grade: 'S', price: 500, rows: [500] },
        ],
        dates: [{ date }],
      },
    });
    expect(atLimit.status, JSON.stringify(atLimit.body)).toBe(201);
    expect(atLimit.body.totalSeats).toBe(100_000);
  }, 120_000);

  test('when a hold names seats or a run badly, then it is 400 and nothing is held', async () => {
    const s = service();
    const { concertId, date } = await planConcert(s);
    const buyer = await s.activeBuyer(concertId);
    const bodies: [string, unknown][] = [
      ['duplicate seat numbers', { seatNumbers: [3, 3] }],
      ['more seats than the limit', { seatNumbers: [1, 2, 3, 4, 5] }],
      ['no seats', { seatNumbers: [] }],
      ['a seat outside the show', { seatNumbers: [1, 26] }],
      ['a seat 0', { seatNumbers: [0, 1] }],
      ['a seat as text', { seatNumbers: ['1'] }],
      ['quantity 0', { quantity: 0 }],
      ['quantity over the limit', { quantity: 5 }],
      ['a fractional quantity', { quantity: 1.5 }],
      ['an unknown section', { quantity: 2, section: 'Z' }],
      ['an unknown grade', { quantity: 2, grade: 'VIP' }],
      ['a grade the section has not', { quantity: 2, section: 'B', grade: 'R' }],
      ['a section with NUL', { quantity: 2, section: 'A\u0000' }],
      ['two forms at once', { seatNumber: 1, seatNumbers: [2] }],
      ['seat numbers and quantity', { seatNumbers: [2], quantity: 1 }],
      ['section without quantity', { seatNumbers: [2], section: 'A' }],
      ['no form at all', {}],
    ];
    for (const [why, body] of bodies) {
      const res = await s.call('POST', '/api/v1/reservations', {
        user: buyer.user,
        queueToken: buyer.queueToken,
        body: { concertId, date, ...(body as object) },
      });
      expect(res.status, `${why}: ${JSON.stringify(res.body)}`).toBe(400);
      expectProblem(res, 400, 'VALIDATION_FAILED');
    }
    expect((await s.call('GET', '/api/v1/reservations', { user: buyer.user })).body).toEqual([]);
    const map = await s.call('GET', `/api/v1/concerts/${concertId}/dates/${date}/seats`, buyer);
    expect(map.body.availableSeats).toBe(25);
  });

  test('when a seat map names a section badly, then 404 SECTION_NOT_FOUND or 400', async () => {
    const s = service();
    const { concertId, date } = await planConcert(s);
    const buyer = await s.activeBuyer(concertId);
    const url = `/api/v1/concerts/${concertId}/dates/${date}/seats`;
    expectProblem(await s.call('GET', `${url}?section=Z`, buyer), 404, 'SECTION_NOT_FOUND');
    expectProblem(await s.call('GET', `${url}?section=a`, buyer), 404, 'SECTION_NOT_FOUND');
    for (const query of ['?section=', `?section=${'x'.repeat(21)}`, '?section=A%00', '?section=A&other=1']) {
      expectProblem(await s.call('GET', `${url}${query}`, buyer), 400, 'VALIDATION_FAILED');
    }
    expect((await s.call('GET', `${url}?section=B`, buyer)).body.seats).toHaveLength(5);
  });

  test('when a payment mixes shows or names reservations badly, then it is 400 and nothing is paid', async () => {
    const s = service();
    const { concertId, date, date2 } = await planConcert(s);
    const buyer = await s.activeBuyer(concertId, 100_000);
    const hold = async (d: string, seatNumbers: number[]) =>
      (
        await s.call('POST', '/api/v1/reservations', {
          user: buyer.user,
          queueToken: buyer.queueToken,
          body: { concertId, date: d, seatNumbers },
        })
      ).body.reservations.map((r: { reservationId: string }) => r.reservationId) as string[];
    const [first] = await hold(date, [1]);
    const [second] = await hold(date2, [1]);
    const bodies: [string, unknown][] = [
      ['reservations of two shows', { reservationIds: [first, second] }],
      ['the same reservation twice', { reservationIds: [first, first] }],
      ['no reservations', { reservationIds: [] }],
      ['more than the limit', { reservationIds: Array.from({ length: 5 }, () => randomUUID()) }],
      ['not a uuid', { reservationIds: ['x'] }],
      ['both forms', { reservationId: first, reservationIds: [first] }],
    ];
    for (const [why, body] of bodies) {
      const res = await s.call('POST', '/api/v1/payments', {
        user: buyer.user,
        queueToken: buyer.queueToken,
        body,
      });
      expect(res.status, `${why}: ${JSON.stringify(res.body)}`).toBe(400);
      expectProblem(res, 400, 'VALIDATION_FAILED');
    }
    expect((await s.call('GET', '/api/v1/payments', { user: buyer.user })).body).toEqual([]);
    expect((await s.call('GET', '/api/v1/balance', { user: buyer.user })).body.balance).toBe(100_000);
    const statuses = (await s.call('GET', '/api/v1/reservations', { user: buyer.user })).body.map(
      (r: { status: string }) => r.status,
    );
    expect(statuses).toEqual(['HELD', 'HELD']);
  });
});
