import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Service, type ServiceMode, startService } from '../../harness/service.js';
import { eventually, sleep } from '../../harness/wait.js';
import type { SuccessBody as Ok, paths } from '../../web/src/api-types.gen.js';
import { serverUrls } from '../helpers/backends.js';
import { e2eClient, type Reply, type User } from './client.js';

/**
 * A black-box walk through every flow and error code of API.md, against the real server built
 * as `npm start` builds it (`node dist/server.js` after tsc), in its own process on a spare
 * port, stopped by its pid. Bodies are typed by the same generated types the web app uses.
 *
 * It runs on whichever Node runs the tests (the server is spawned with the same binary), so a
 * smoke on another Node is `/path/to/node24 node_modules/vitest/vitest.mjs run test/e2e`.
 */

const ADMIN_KEY = 'e2e-walkthrough-admin-key';
const HOLD_TTL_SECONDS = 2;
const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';

type Method = 'get' | 'post' | 'patch' | 'delete';

interface CallOptions {
  /** Values of the `{name}` segments of the path template. */
  params?: Record<string, string | number>;
  body?: unknown;
  as?: User;
  queueToken?: string;
  headers?: Record<string, string>;
}

interface Backend {
  name: string;
  mode: ServiceMode;
}

const backends: Backend[] = [{ name: 'embedded database, in-process queue', mode: 'embedded' }];
const { database: databaseUrl, redis: redisUrl } = serverUrls;
if (databaseUrl && redisUrl) backends.push({ name: 'PostgreSQL server, Redis queue', mode: 'servers' });

// Each step is a few sequential requests (charging: about a hundred); room for a busy machine.
const timeout = 120_000;

describe.each(backends)('API.md walkthrough on the built server, $name', { timeout }, (backend) => {
  let service: Service;
  let base: string;
  const { send, expectProblem } = e2eClient(() => base);

  beforeAll(async () => {
    service = await startService({
      mode: backend.mode,
      ...(databaseUrl ? { scratchDatabase: { adminUrl: databaseUrl, prefix: 'bo_e2e_' } } : {}),
      ...(redisUrl ? { redisUrl } : {}),
      adminKey: ADMIN_KEY,
      // As `npm start` runs: the server's own request limit and demo seeding.
      rateLimitPerMinute: null,
      seedDemo: backend.mode === 'embedded',
      settings: { HOLD_TTL_SECONDS, QUEUE_ADMIT_PER_SECOND: 100 },
      // Generous: the machine may be busy with other suites (build, migrations, PGlite start).
      cluster: { readyTimeoutMs: 150_000 },
    });
    base = service.urls[0]!;
  }, 300_000);

  afterAll(async () => {
    await service?.stop();
  });

  async function call<P extends keyof paths, M extends keyof paths[P] & Method>(
    method: M,
    path: P,
    options: CallOptions = {},
  ): Promise<Reply<Ok<P, M>>> {
    const url = String(path).replace(/\{(\w+)\}/g, (_whole, name: string) => {
      const value = options.params?.[name];
      if (value === undefined) throw new Error(`no value for {${name}} in ${String(path)}`);
      return encodeURIComponent(String(value));
    });
    return send(method.toUpperCase(), url, options);
  }

  const admin = { headers: { 'admin-key': ADMIN_KEY } };
  const day = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
  let concertId: string;
  let alice: User;
  let bob: User;
  let aliceQ: string;
  let bobQ: string;
  /** The one-seat form's answer: the reservation itself (the other forms answer a list). */
  type OneSeatHold = Extract<Ok<'/api/v1/reservations', 'post'>, { reservationId: string }>;
  let aliceHold: OneSeatHold;
  let bobHolds: Ok<'/api/v1/reservations', 'get'>;

  function newUser(name: string): Promise<User> {
    return call('post', '/api/v1/users', { body: { name } }).then((r) => {
      expect(r.status).toBe(201);
      return r.body;
    });
  }

  /** Joins the line and polls the status until admitted, as a client without streams would. */
  async function activeToken(user: User): Promise<string> {
    const joined = await call('post', '/api/v1/queue/tokens', { as: user, body: { concertId } });
    expect([200, 201]).toContain(joined.status);
    const token = joined.body.token;
    return eventually(
      async () =>
        (await call('get', '/api/v1/queue/status', { queueToken: token })).body.status === 'ACTIVE' && token,
      { timeoutMs: 30_000, what: 'admission' },
    );
  }

  const hold = (user: User, queueToken: string, seatNumber: number, extra: object = {}) =>
    call('post', '/api/v1/reservations', {
      as: user,
      queueToken,
      body: { concertId, date: day, seatNumber, ...extra },
    });

  const pay = (user: User, queueToken: string, reservationId: string, key?: string) =>
    call('post', '/api/v1/payments', {
      as: user,
      queueToken,
      body: { reservationId },
      headers: key ? { 'idempotency-key': key } : {},
    });

  const charge = (user: User, amount: number, key?: string) =>
    call('post', '/api/v1/balance/charges', {
      as: user,
      body: { amount },
      headers: key ? { 'idempotency-key': key } : {},
    });

  const dates = (user: User, queueToken?: string) =>
    call('get', '/api/v1/concerts/{concertId}/dates', { params: { concertId }, as: user, queueToken });

  it('When the server is up, then health, the OpenAPI document, the docs and unknown routes answer', async () => {
    expect((await call('get', '/health/live')).status).toBe(200);
    expect((await call('get', '/health/ready')).status).toBe(200);
    const spec = await send<{ paths: Record<string, unknown> }>('GET', '/openapi.json');
    expect(spec.status).toBe(200);
    expect(spec.body.paths['/api/v1/payments']).toBeDefined();
    expect((await send('GET', '/docs/')).status).toBe(200);
    expectProblem(await send('GET', '/api/v1/nope'), 404, 'NOT_FOUND');
  });

  it('When the operator creates a concert and tunes its line, then it is listed; without the key, 401', async () => {
    expectProblem(
      await call('get', '/api/v1/admin/concerts/{concertId}/queue', { params: { concertId: NO_SUCH_ID } }),
      401,
      'UNAUTHENTICATED',
    );
    const created = await call('post', '/api/v1/admin/concerts', {
      ...admin,
      body: { title: 'Walkthrough', venue: 'Hall', dates: [{ date: day, seats: 6, price: 50_000 }] },
    });
    expect(created.status, created.text).toBe(201);
    concertId = created.body.concertId;
    service.trackConcert(concertId);
    expectProblem(
      await call('post', '/api/v1/admin/concerts', { ...admin, body: { title: 'x' } }),
      400,
      'VALIDATION_FAILED',
    );
    const settings = await call('get', '/api/v1/admin/concerts/{concertId}/queue', {
      ...admin,
      params: { concertId },
    });
    expect(settings.body.paused).toBe(false);
    const patched = await call('patch', '/api/v1/admin/concerts/{concertId}/queue', {
      ...admin,
      params: { concertId },
      body: { maxActive: 50 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.maxActive).toBe(50);
    const list = await call('get', '/api/v1/concerts');
    expect(list.status).toBe(200);
    expect(list.body.find((c) => c.concertId === concertId)?.dates).toEqual([day]);
  });

  it('When users are created and join the line, then they get one token each and a status stream', async () => {
    expectProblem(
      await call('post', '/api/v1/users', { body: { name: 'x'.repeat(101) } }),
      400,
      'VALIDATION_FAILED',
    );
    alice = await newUser('Alice');
    bob = await newUser('Bob');
    expect(typeof alice.accessToken).toBe('string');
    expectProblem(
      await call('post', '/api/v1/queue/tokens', { body: { concertId } }),
      401,
      'UNAUTHENTICATED',
    );
    expectProblem(
      await call('post', '/api/v1/queue/tokens', { as: alice, body: { concertId: NO_SUCH_ID } }),
      404,
      'CONCERT_NOT_FOUND',
    );
    const joined = await call('post', '/api/v1/queue/tokens', { as: alice, body: { concertId } });
    expect(joined.status).toBe(201);
    expect(['WAITING', 'ACTIVE']).toContain(joined.body.status);
    const again = await call('post', '/api/v1/queue/tokens', { as: alice, body: { concertId } });
    expect(again.status).toBe(200);
    expect(again.body.token).toBe(joined.body.token);

    const events = await fetch(`${base}/api/v1/queue/events?token=${encodeURIComponent(joined.body.token)}`);
    expect(events.headers.get('content-type')).toContain('text/event-stream');
    const reader = events.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/retry|data:/);
    await reader.cancel();

    aliceQ = await activeToken(alice);
    bobQ = await activeToken(bob);
  });

  it('When a token is waiting, then the gate says QUEUE_NOT_ACTIVE and a fourth event stream is refused', async () => {
    const pause = (paused: boolean) =>
      call('patch', '/api/v1/admin/concerts/{concertId}/queue', {
        ...admin,
        params: { concertId },
        body: { paused },
      });
    expect((await pause(true)).status).toBe(200);
    const carol = await newUser('Carol');
    const waiting = await call('post', '/api/v1/queue/tokens', { as: carol, body: { concertId } });
    expect(waiting.body.status).toBe('WAITING');
    const gated = await dates(carol, waiting.body.token);
    expectProblem(gated, 403, 'QUEUE_NOT_ACTIVE');
    expect(gated.problem.position).toBe(1);

    // Three open streams per token; they stay open while the token waits.
    const streams = new AbortController();
    const eventsUrl = `${base}/api/v1/queue/events?token=${encodeURIComponent(waiting.body.token)}`;
    try {
      for (let i = 0; i < 3; i++) {
        const open = await fetch(eventsUrl, { signal: streams.signal });
        expect(open.status).toBe(200);
        await open.body!.getReader().read(); // the first event: the stream is counted
      }
      expectProblem(await send('GET', eventsUrl.slice(base.length)), 429, 'RATE_LIMITED');
    } finally {
      streams.abort();
    }
    expect((await pause(false)).status).toBe(200);
  });

  it('When the gate is passed or refused, then dates and seats answer as API.md says', async () => {
    expectProblem(await dates(alice), 401, 'QUEUE_TOKEN_INVALID');
    expectProblem(await dates(alice, `${aliceQ}x`), 401, 'QUEUE_TOKEN_INVALID');
    expectProblem(await dates(bob, aliceQ), 403, 'QUEUE_TOKEN_FORBIDDEN');
    const list = await dates(alice, aliceQ);
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(1);
    expect(list.body[0]).toMatchObject({ date: day, totalSeats: 6, availableSeats: 6 });

    const seats = (date: string) =>
      call('get', '/api/v1/concerts/{concertId}/dates/{date}/seats', {
        params: { concertId, date },
        as: alice,
        queueToken: aliceQ,
      });
    const map = await seats(day);
    expect(map.status).toBe(200);
    expect(map.body.seats).toHaveLength(6);
    expect(map.body.seats[0]?.status).toBe('AVAILABLE');
    expectProblem(await seats('2099-01-01'), 404, 'DATE_NOT_FOUND');
    expectProblem(await seats('2099-02-30'), 400, 'VALIDATION_FAILED');
  });

  it('When balances are charged, then charges are idempotent, validated and capped', async () => {
    expect((await call('get', '/api/v1/balance', { as: alice })).body.balance).toBe(0);
    expectProblem(await charge(alice, 10.5), 400, 'VALIDATION_FAILED');
    const first = await charge(alice, 30_000, 'walk-charge');
    const retried = await charge(alice, 30_000, 'walk-charge');
    expect(first.status).toBe(200);
    expect(retried.status).toBe(200);
    expect(retried.body.transactionId).toBe(first.body.transactionId);
    expect(retried.body.balance).toBe(30_000);
    expectProblem(await charge(alice, 1, 'walk-charge'), 409, 'IDEMPOTENCY_KEY_REUSED');

    // 100 charges of the largest amount reach the 1,000,000,000 cap exactly.
    for (let i = 0; i < 100; i++) expect((await charge(bob, 10_000_000)).status).toBe(200);
    expectProblem(await charge(bob, 1), 409, 'BALANCE_LIMIT_EXCEEDED');
    expectProblem(
      await send('POST', '/api/v1/balance/charges', {
        as: bob,
        body: { amount: 1, pad: 'x'.repeat(70 * 1024) },
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });

  it('When seats are held, then one holder per seat, a hold limit, cancels and privacy hold', async () => {
    const held = await hold(alice, aliceQ, 1);
    expect(held.status, held.text).toBe(201);
    expect(held.body).toMatchObject({ status: 'HELD', price: 50_000, seatNumber: 1 });
    aliceHold = held.body as OneSeatHold;
    expectProblem(await hold(bob, bobQ, 1), 409, 'SEAT_UNAVAILABLE');
    expectProblem(await hold(bob, bobQ, 7), 400, 'VALIDATION_FAILED');
    expectProblem(await hold(bob, bobQ, 2, { x: 1 }), 400, 'VALIDATION_FAILED');
    for (const seat of [2, 3, 4, 5]) expect((await hold(bob, bobQ, seat)).status).toBe(201);
    expectProblem(await hold(bob, bobQ, 6), 409, 'HOLD_LIMIT_REACHED');

    const mine = await call('get', '/api/v1/reservations', { as: bob });
    expect(mine.body).toHaveLength(4);
    bobHolds = mine.body;
    const reservation = (user: User, reservationId: string, method: 'get' | 'delete' = 'get') =>
      call(method, '/api/v1/reservations/{reservationId}', { params: { reservationId }, as: user });
    expect((await reservation(bob, bobHolds[0]!.reservationId, 'delete')).status).toBe(204);
    expectProblem(await reservation(bob, bobHolds[0]!.reservationId, 'delete'), 409, 'RESERVATION_NOT_HELD');
    expectProblem(await reservation(bob, aliceHold.reservationId), 404, 'RESERVATION_NOT_FOUND');
  });

  it('When a hold is paid, then the seat is sold once, the retry replays and the pass expires', async () => {
    // Held in the step before, moments ago: well inside HOLD_TTL_SECONDS.
    expectProblem(await pay(alice, aliceQ, aliceHold.reservationId), 409, 'INSUFFICIENT_BALANCE');
    expect((await charge(alice, 50_000)).body.balance).toBe(80_000);
    const paid = await pay(alice, aliceQ, aliceHold.reservationId, 'walk-pay');
    expect(paid.status, paid.text).toBe(201);
    expect(paid.body).toMatchObject({ balance: 30_000, seatNumber: 1, amount: 50_000 });
    const replay = await pay(alice, aliceQ, aliceHold.reservationId, 'walk-pay');
    expect(replay.status).toBe(201);
    expect(replay.body.paymentId).toBe(paid.body.paymentId);

    expectProblem(await dates(alice, aliceQ), 401, 'QUEUE_TOKEN_EXPIRED');
    expect((await call('get', '/api/v1/queue/status', { queueToken: aliceQ })).body.status).toBe('EXPIRED');
    const history = (await call('get', '/api/v1/balance/history', { as: alice })).body;
    expect(history.reduce((sum, entry) => sum + entry.amount, 0)).toBe(30_000);
    expect(history[0]?.type).toBe('PAYMENT');
    expect((await call('get', '/api/v1/payments', { as: alice })).body).toHaveLength(1);
    const confirmed = await call('get', '/api/v1/reservations/{reservationId}', {
      params: { reservationId: aliceHold.reservationId },
      as: alice,
    });
    expect(confirmed.body.status).toBe('CONFIRMED');

    expectProblem(await pay(bob, bobQ, bobHolds[0]!.reservationId), 409, 'RESERVATION_NOT_HELD');
    expectProblem(await pay(bob, bobQ, aliceHold.reservationId), 404, 'RESERVATION_NOT_FOUND');
  });

  it('When a hold lapses, then paying it is HOLD_EXPIRED and its seat is free again', async () => {
    const lapsing = bobHolds[1]!;
    const msLeft = Date.parse(lapsing.holdExpiresAt) - Date.now();
    await sleep(Math.max(0, msLeft) + 300);
    expectProblem(await pay(bob, bobQ, lapsing.reservationId), 410, 'HOLD_EXPIRED');
    const map = await call('get', '/api/v1/concerts/{concertId}/dates/{date}/seats', {
      params: { concertId, date: day },
      as: bob,
      queueToken: bobQ,
    });
    expect(map.body.seats[lapsing.seatNumber - 1]?.status).toBe('AVAILABLE');
  });

  it('When a user leaves the line, then the pass is expired; metrics count what happened', async () => {
    expect((await call('delete', '/api/v1/queue/tokens/current', { queueToken: bobQ })).status).toBe(204);
    expectProblem(await dates(bob, bobQ), 401, 'QUEUE_TOKEN_EXPIRED');
    const metrics = await send<string>('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('boxoffice_http_requests_total');
    expect(metrics.body).toContain('boxoffice_queue_waiting');
  });
});
