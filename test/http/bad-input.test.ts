import { describe, expect, test } from 'vitest';
import { eventually } from '../../harness/wait.js';
import { announceSkips, backends } from '../helpers/backends.js';
import { type Response, useService } from '../helpers/context.js';

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
