#!/usr/bin/env node
// A black-box walk through every flow and error code of API.md against a running server.
// Plain JavaScript over fetch, so it runs on any supported Node without a build.
//
//   BASE_URL=http://127.0.0.1:3000 ADMIN_KEY=… HOLD_TTL_SECONDS=2 node scripts/walkthrough.mjs
//
// The server must run with the same ADMIN_KEY; with HOLD_TTL_SECONDS ≤ 5 the hold-lapse
// checks run too. Exits non-zero if any check fails.

const base = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
const adminKey = process.env.ADMIN_KEY;
const holdTtl = Number(process.env.HOLD_TTL_SECONDS ?? 300);
let passed = 0;
let failed = 0;

function check(name, ok, detail = '') {
  if (ok) passed++;
  else {
    failed++;
    console.log(`FAIL ${name} ${detail}`);
  }
}

async function call(method, path, { body, token, queueToken, headers = {} } = {}) {
  const h = { ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  if (token) h.authorization = `Bearer ${token}`;
  if (queueToken) h['queue-token'] = queueToken;
  const res = await fetch(base + path, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  return { status: res.status, type, body: type.includes('json') && text ? JSON.parse(text) : text };
}

function expectProblem(name, res, status, code) {
  const ok =
    res.status === status && res.type.includes('application/problem+json') && res.body?.code === code;
  check(name, ok, `→ ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function activeToken(token, concertId) {
  const joined = await call('POST', '/api/v1/queue/tokens', { token, body: { concertId } });
  for (let i = 0; i < 100; i++) {
    const st = await call('GET', '/api/v1/queue/status', { queueToken: joined.body.token });
    if (st.body.status === 'ACTIVE') return joined.body.token;
    await sleep(100);
  }
  throw new Error('not admitted within 10 s');
}

async function main() {
  check('live', (await call('GET', '/health/live')).status === 200);
  check('ready', (await call('GET', '/health/ready')).status === 200);
  const spec = await call('GET', '/openapi.json');
  check('openapi', spec.status === 200 && spec.body.paths['/api/v1/payments'] !== undefined);
  check('docs', (await call('GET', '/docs/')).status === 200);
  expectProblem('unknown route', await call('GET', '/api/v1/nope'), 404, 'NOT_FOUND');

  // Admin: a concert of our own, so the walk never depends on the demo's state.
  expectProblem(
    'admin without key',
    await call('GET', '/api/v1/admin/concerts/00000000-0000-4000-8000-000000000000/queue'),
    401,
    'UNAUTHENTICATED',
  );
  const day = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
  const created = await call('POST', '/api/v1/admin/concerts', {
    headers: { 'admin-key': adminKey },
    body: { title: 'Walkthrough', venue: 'Hall', dates: [{ date: day, seats: 6, price: 50_000 }] },
  });
  check('admin create concert', created.status === 201, JSON.stringify(created.body));
  const concertId = created.body.concertId;
  expectProblem(
    'admin bad body',
    await call('POST', '/api/v1/admin/concerts', {
      headers: { 'admin-key': adminKey },
      body: { title: 'x' },
    }),
    400,
    'VALIDATION_FAILED',
  );
  const queueAdmin = `/api/v1/admin/concerts/${concertId}/queue`;
  check(
    'admin queue',
    (await call('GET', queueAdmin, { headers: { 'admin-key': adminKey } })).body.paused === false,
  );
  const patched = await call('PATCH', queueAdmin, {
    headers: { 'admin-key': adminKey },
    body: { maxActive: 50 },
  });
  check('admin patch', patched.status === 200 && patched.body.maxActive === 50);

  const list = await call('GET', '/api/v1/concerts');
  check(
    'concerts list',
    list.status === 200 && list.body.some((c) => c.concertId === concertId && c.dates[0] === day),
  );

  // Users and the line.
  expectProblem(
    'user name too long',
    await call('POST', '/api/v1/users', { body: { name: 'x'.repeat(101) } }),
    400,
    'VALIDATION_FAILED',
  );
  const alice = (await call('POST', '/api/v1/users', { body: { name: 'Alice' } })).body;
  const bob = (await call('POST', '/api/v1/users', { body: { name: 'Bob' } })).body;
  check('user created', typeof alice.accessToken === 'string' && typeof alice.userId === 'string');
  expectProblem(
    'join unauthenticated',
    await call('POST', '/api/v1/queue/tokens', { body: { concertId } }),
    401,
    'UNAUTHENTICATED',
  );
  expectProblem(
    'join unknown concert',
    await call('POST', '/api/v1/queue/tokens', {
      token: alice.accessToken,
      body: { concertId: '00000000-0000-4000-8000-000000000000' },
    }),
    404,
    'CONCERT_NOT_FOUND',
  );
  const joined = await call('POST', '/api/v1/queue/tokens', {
    token: alice.accessToken,
    body: { concertId },
  });
  check('join 201', joined.status === 201 && ['WAITING', 'ACTIVE'].includes(joined.body.status));
  const rejoined = await call('POST', '/api/v1/queue/tokens', {
    token: alice.accessToken,
    body: { concertId },
  });
  check('rejoin 200 same token', rejoined.status === 200 && rejoined.body.token === joined.body.token);
  const events = await fetch(`${base}/api/v1/queue/events?token=${encodeURIComponent(joined.body.token)}`);
  const firstEvent = new TextDecoder().decode((await events.body.getReader().read()).value);
  check(
    'events stream',
    events.headers.get('content-type')?.includes('text/event-stream') && /retry|data:/.test(firstEvent),
  );
  await events.body.cancel().catch(() => {});
  const aliceQ = await activeToken(alice.accessToken, concertId);
  const bobQ = await activeToken(bob.accessToken, concertId);

  // The gate.
  const datesPath = `/api/v1/concerts/${concertId}/dates`;
  expectProblem(
    'gate: no token',
    await call('GET', datesPath, { token: alice.accessToken }),
    401,
    'QUEUE_TOKEN_INVALID',
  );
  expectProblem(
    'gate: forged',
    await call('GET', datesPath, { token: alice.accessToken, queueToken: `${aliceQ}x` }),
    401,
    'QUEUE_TOKEN_INVALID',
  );
  expectProblem(
    'gate: other user',
    await call('GET', datesPath, { token: bob.accessToken, queueToken: aliceQ }),
    403,
    'QUEUE_TOKEN_FORBIDDEN',
  );
  const dates = await call('GET', datesPath, { token: alice.accessToken, queueToken: aliceQ });
  check('dates', dates.status === 200 && dates.body[0]?.date === day && dates.body[0].availableSeats === 6);
  const seats = await call('GET', `${datesPath}/${day}/seats`, {
    token: alice.accessToken,
    queueToken: aliceQ,
  });
  check(
    'seats',
    seats.status === 200 && seats.body.seats.length === 6 && seats.body.seats[0].status === 'AVAILABLE',
  );
  expectProblem(
    'seats: unknown date',
    await call('GET', `${datesPath}/2099-01-01/seats`, { token: alice.accessToken, queueToken: aliceQ }),
    404,
    'DATE_NOT_FOUND',
  );
  expectProblem(
    'seats: bad date',
    await call('GET', `${datesPath}/2099-02-30/seats`, { token: alice.accessToken, queueToken: aliceQ }),
    400,
    'VALIDATION_FAILED',
  );

  // Holds.
  const hold = (user, q, seatNumber) =>
    call('POST', '/api/v1/reservations', {
      token: user.accessToken,
      queueToken: q,
      body: { concertId, date: day, seatNumber },
    });
  const held = await hold(alice, aliceQ, 1);
  check('hold', held.status === 201 && held.body.status === 'HELD' && held.body.price === 50_000);
  expectProblem('hold taken seat', await hold(bob, bobQ, 1), 409, 'SEAT_UNAVAILABLE');
  expectProblem('hold outside the show', await hold(bob, bobQ, 7), 400, 'VALIDATION_FAILED');
  expectProblem(
    'hold unknown field',
    await call('POST', '/api/v1/reservations', {
      token: bob.accessToken,
      queueToken: bobQ,
      body: { concertId, date: day, seatNumber: 2, x: 1 },
    }),
    400,
    'VALIDATION_FAILED',
  );
  for (const n of [2, 3, 4, 5]) await hold(bob, bobQ, n);
  expectProblem('hold limit', await hold(bob, bobQ, 6), 409, 'HOLD_LIMIT_REACHED');
  const bobs = (await call('GET', '/api/v1/reservations', { token: bob.accessToken })).body;
  check('my reservations', bobs.length === 4);
  const cancelled = await call('DELETE', `/api/v1/reservations/${bobs[0].reservationId}`, {
    token: bob.accessToken,
  });
  check('cancel', cancelled.status === 204);
  expectProblem(
    'cancel twice',
    await call('DELETE', `/api/v1/reservations/${bobs[0].reservationId}`, { token: bob.accessToken }),
    409,
    'RESERVATION_NOT_HELD',
  );
  expectProblem(
    'other user reservation',
    await call('GET', `/api/v1/reservations/${held.body.reservationId}`, { token: bob.accessToken }),
    404,
    'RESERVATION_NOT_FOUND',
  );

  // Balance.
  check('balance 0', (await call('GET', '/api/v1/balance', { token: alice.accessToken })).body.balance === 0);
  const pay = (user, q, reservationId, key) =>
    call('POST', '/api/v1/payments', {
      token: user.accessToken,
      queueToken: q,
      body: { reservationId },
      headers: key ? { 'idempotency-key': key } : {},
    });
  expectProblem(
    'pay without balance',
    await pay(alice, aliceQ, held.body.reservationId),
    409,
    'INSUFFICIENT_BALANCE',
  );
  expectProblem(
    'charge non-integer',
    await call('POST', '/api/v1/balance/charges', { token: alice.accessToken, body: { amount: 10.5 } }),
    400,
    'VALIDATION_FAILED',
  );
  const charge = () =>
    call('POST', '/api/v1/balance/charges', {
      token: alice.accessToken,
      body: { amount: 80_000 },
      headers: { 'idempotency-key': 'walk-charge' },
    });
  const c1 = await charge();
  const c2 = await charge();
  check(
    'charge idempotent',
    c1.status === 200 &&
      c2.status === 200 &&
      c1.body.transactionId === c2.body.transactionId &&
      c2.body.balance === 80_000,
  );
  expectProblem(
    'key reused',
    await call('POST', '/api/v1/balance/charges', {
      token: alice.accessToken,
      body: { amount: 1 },
      headers: { 'idempotency-key': 'walk-charge' },
    }),
    409,
    'IDEMPOTENCY_KEY_REUSED',
  );
  for (let i = 0; i < 99; i++)
    await call('POST', '/api/v1/balance/charges', { token: bob.accessToken, body: { amount: 10_000_000 } });
  await call('POST', '/api/v1/balance/charges', { token: bob.accessToken, body: { amount: 10_000_000 } });
  expectProblem(
    'balance limit',
    await call('POST', '/api/v1/balance/charges', { token: bob.accessToken, body: { amount: 1 } }),
    409,
    'BALANCE_LIMIT_EXCEEDED',
  );

  // Payment.
  const paid = await pay(alice, aliceQ, held.body.reservationId, 'walk-pay');
  check(
    'pay',
    paid.status === 201 && paid.body.balance === 30_000 && paid.body.seatNumber === 1,
    JSON.stringify(paid.body),
  );
  const replay = await pay(alice, aliceQ, held.body.reservationId, 'walk-pay');
  check('pay replay', replay.status === 201 && replay.body.paymentId === paid.body.paymentId);
  expectProblem(
    'token expired by purchase',
    await call('GET', datesPath, { token: alice.accessToken, queueToken: aliceQ }),
    401,
    'QUEUE_TOKEN_EXPIRED',
  );
  check(
    'status expired',
    (await call('GET', '/api/v1/queue/status', { queueToken: aliceQ })).body.status === 'EXPIRED',
  );
  const history = (await call('GET', '/api/v1/balance/history', { token: alice.accessToken })).body;
  check(
    'history sums to balance',
    history.reduce((s, h) => s + h.amount, 0) === 30_000 && history[0].type === 'PAYMENT',
  );
  check(
    'payments list',
    (await call('GET', '/api/v1/payments', { token: alice.accessToken })).body.length === 1,
  );
  check(
    'reservation confirmed',
    (await call('GET', `/api/v1/reservations/${held.body.reservationId}`, { token: alice.accessToken })).body
      .status === 'CONFIRMED',
  );
  const bobHeld = bobs[1];
  expectProblem('pay cancelled', await pay(bob, bobQ, bobs[0].reservationId), 409, 'RESERVATION_NOT_HELD');
  expectProblem('pay not mine', await pay(bob, bobQ, held.body.reservationId), 404, 'RESERVATION_NOT_FOUND');

  if (holdTtl <= 5) {
    await sleep(holdTtl * 1000 + 200);
    expectProblem('pay lapsed hold', await pay(bob, bobQ, bobHeld.reservationId), 410, 'HOLD_EXPIRED');
    const map = await call('GET', `${datesPath}/${day}/seats`, { token: bob.accessToken, queueToken: bobQ });
    check('lapsed seat available', map.body.seats[bobHeld.seatNumber - 1].status === 'AVAILABLE');
  }

  const left = await call('DELETE', '/api/v1/queue/tokens/current', { queueToken: bobQ });
  check('leave', left.status === 204);
  expectProblem(
    'left token',
    await call('GET', datesPath, { token: bob.accessToken, queueToken: bobQ }),
    401,
    'QUEUE_TOKEN_EXPIRED',
  );
  const metrics = await call('GET', '/metrics');
  check(
    'metrics',
    metrics.status === 200 &&
      metrics.body.includes('boxoffice_http_requests_total') &&
      metrics.body.includes('boxoffice_queue_waiting'),
  );
}

main()
  .catch((error) => {
    failed++;
    console.log(`FAIL walkthrough aborted: ${error.stack ?? error}`);
  })
  .finally(() => {
    console.log(`walkthrough: ${passed} passed, ${failed} failed`);
    process.exitCode = failed === 0 ? 0 : 1;
  });
