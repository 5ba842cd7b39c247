import { createHmac, createPublicKey, timingSafeEqual, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Service, type ServiceMode, startService } from '../../harness/service.js';
import { eventually } from '../../harness/wait.js';
import type { SuccessBody as Ok, paths } from '../../web/src/api-types.gen.js';
import { serverUrls } from '../helpers/backends.js';
import { e2eClient, type Reply, type User } from './client.js';

/**
 * API.md after the sale, walked on the built server as walkthrough.test.ts walks the rest:
 * "Refunds and cancelled shows", "Tickets and the gate" and "Events to other systems", every
 * path and every code they name, through HTTP only. Webhooks go to a receiver this test runs,
 * which answers 500 until told otherwise.
 */

const ADMIN_KEY = 'e2e-after-sale-admin-key';
const GATE_KEY = 'e2e-after-sale-gate-key';
const WEBHOOK_SECRET = 'e2e-after-sale-webhook-secret-0123456789';
const PRICE = 50_000;
/** REFUND_FEE_PERCENT's default, as API.md sets it. */
const FEE_PERCENT = 10;
const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';

type Method = 'get' | 'post' | 'patch' | 'delete';

interface CallOptions {
  params?: Record<string, string | number>;
  query?: string;
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

const timeout = 120_000;

type Cancellation = Ok<'/api/v1/admin/concerts/{concertId}/dates/{date}/cancel', 'get'>;

/** What the test's webhook receiver got: each request's raw body and signature header. */
interface Delivery {
  raw: string;
  signature: string;
  event: { id: string; type: string; createdAt: string; data: unknown };
}

const dayFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe.each(backends)('API.md after the sale on the built server, $name', { timeout }, (backend) => {
  let service: Service;
  let base: string;
  const { send, expectProblem } = e2eClient(() => base);
  let receiver: Server;
  let answer = 500;
  const deliveries: Delivery[] = [];

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        if (answer < 300) {
          deliveries.push({
            raw,
            signature: String(request.headers['boxoffice-signature'] ?? ''),
            event: JSON.parse(raw),
          });
        }
        response.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as AddressInfo).port;
    service = await startService({
      mode: backend.mode,
      ...(databaseUrl ? { scratchDatabase: { adminUrl: databaseUrl, prefix: 'bo_e2e_' } } : {}),
      ...(redisUrl ? { redisUrl } : {}),
      adminKey: ADMIN_KEY,
      rateLimitPerMinute: null,
      seedDemo: false,
      settings: { HOLD_TTL_SECONDS: 120, QUEUE_ADMIT_PER_SECOND: 100 },
      extra: {
        GATE_KEY,
        WEBHOOK_URL: `http://127.0.0.1:${port}/hooks`,
        WEBHOOK_SECRET,
      },
      cluster: { readyTimeoutMs: 150_000 },
    });
    base = service.urls[0]!;
  }, 300_000);

  afterAll(async () => {
    await service?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
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
    return send(method.toUpperCase(), url + (options.query ?? ''), options);
  }

  const admin = { headers: { 'admin-key': ADMIN_KEY } };
  const gate = { headers: { 'gate-key': GATE_KEY } };
  // Far enough for returns to be open; `soon` is inside REFUND_CUTOFF_HOURS (24 h before its 00:00 UTC).
  const far = dayFromNow(40);
  const cancelled = dayFromNow(41);
  const soon = dayFromNow(1);
  let concertId: string;
  let alice: User & { paymentId: string; code?: string };
  let bob: User;
  let dave: User & { paymentId: string; code?: string };

  async function newUser(): Promise<User> {
    const made = await call('post', '/api/v1/users', { body: {} });
    expect(made.status).toBe(201);
    return made.body;
  }

  async function admitted(user: User): Promise<string> {
    const joined = await call('post', '/api/v1/queue/tokens', { as: user, body: { concertId } });
    expect([200, 201]).toContain(joined.status);
    const token = joined.body.token;
    return eventually(
      async () =>
        (await call('get', '/api/v1/queue/status', { queueToken: token })).body.status === 'ACTIVE' && token,
      { timeoutMs: 30_000, what: 'admission' },
    );
  }

  async function hold(user: User, queueToken: string, date: string, seatNumber: number) {
    return call('post', '/api/v1/reservations', {
      as: user,
      queueToken,
      body: { concertId, date, seatNumber },
    });
  }

  /** A new buyer who pays for one seat; the reply of the payment. */
  async function buyer(date: string, seatNumber: number): Promise<User & { paymentId: string }> {
    const user = await newUser();
    const queueToken = await admitted(user);
    const held = await hold(user, queueToken, date, seatNumber);
    expect(held.status, held.text).toBe(201);
    const reservationId = (held.body as { reservationId: string }).reservationId;
    expect(
      (await call('post', '/api/v1/balance/charges', { as: user, body: { amount: PRICE } })).status,
    ).toBe(200);
    const paid = await call('post', '/api/v1/payments', { as: user, queueToken, body: { reservationId } });
    expect(paid.status, paid.text).toBe(201);
    return { ...user, paymentId: paid.body.paymentId };
  }

  const balanceOf = async (user: User) => (await call('get', '/api/v1/balance', { as: user })).body.balance;
  const ticketsOf = async (user: User) => (await call('get', '/api/v1/tickets', { as: user })).body;

  it('When the operator creates a show with three dates, then it sells', async () => {
    const created = await call('post', '/api/v1/admin/concerts', {
      ...admin,
      body: {
        title: 'After the sale',
        venue: 'Hall',
        dates: [far, cancelled, soon].map((date) => ({ date, seats: 10, price: PRICE })),
      },
    });
    expect(created.status, created.text).toBe(201);
    concertId = created.body.concertId;
    service.trackConcert(concertId);
    bob = await newUser();
  });

  it('When a buyer returns a payment, then the fee is kept, the rest comes back once, and the seat is free', async () => {
    alice = await buyer(far, 1);
    expect(await balanceOf(alice)).toBe(0);
    const refund = (user: User | undefined, paymentId: string, key?: string) =>
      call('post', '/api/v1/payments/{paymentId}/refund', {
        params: { paymentId },
        ...(user ? { as: user } : {}),
        ...(key ? { headers: { 'idempotency-key': key } } : {}),
      });

    expectProblem(await refund(undefined, alice.paymentId), 401, 'UNAUTHENTICATED');
    expectProblem(await refund(bob, alice.paymentId), 404, 'PAYMENT_NOT_FOUND');
    expectProblem(await refund(alice, NO_SUCH_ID), 404, 'PAYMENT_NOT_FOUND');
    expectProblem(await refund(alice, 'not-a-uuid'), 400, 'VALIDATION_FAILED');

    // The settings a buyer sees before returning (GET /refund-policy, an addition to API.md).
    const policy = await call('get', '/api/v1/refund-policy');
    expect(policy.body).toEqual({ feePercent: FEE_PERCENT, cutoffHours: 24 });
    const fee = Math.floor((PRICE * FEE_PERCENT) / 100);
    const first = await refund(alice, alice.paymentId, 'return-1');
    expect(first.status, first.text).toBe(200);
    expect(first.body).toEqual({
      paymentId: alice.paymentId,
      status: 'REFUNDED',
      fee,
      refunded: PRICE - fee,
      balance: PRICE - fee,
    });
    // The same key again: the first answer, and nothing more credited.
    const replay = await refund(alice, alice.paymentId, 'return-1');
    expect({ status: replay.status, body: replay.body }).toEqual({ status: 200, body: first.body });
    expectProblem(await refund(alice, alice.paymentId), 409, 'ALREADY_REFUNDED');
    expect(await balanceOf(alice)).toBe(PRICE - fee);

    const history = (await call('get', '/api/v1/balance/history', { as: alice })).body;
    expect(history.map((entry) => [entry.type, entry.amount])).toEqual([
      ['REFUND', PRICE - fee],
      ['PAYMENT', -PRICE],
      ['CHARGE', PRICE],
    ]);
    const payments = (await call('get', '/api/v1/payments', { as: alice })).body;
    expect(payments.map((p) => [p.paymentId, p.status])).toEqual([[alice.paymentId, 'REFUNDED']]);

    // The seat can be sold again at once.
    const bobQ = await admitted(bob);
    const map = await call('get', '/api/v1/concerts/{concertId}/dates/{date}/seats', {
      params: { concertId, date: far },
      as: bob,
      queueToken: bobQ,
    });
    expect(map.body.seats.find((seat) => seat.seatNumber === 1)?.status).toBe('AVAILABLE');
    const again = await hold(bob, bobQ, far, 1);
    expect(again.status, again.text).toBe(201);
    expect(
      (
        await call('delete', '/api/v1/reservations/{reservationId}', {
          params: { reservationId: (again.body as { reservationId: string }).reservationId },
          as: bob,
        })
      ).status,
    ).toBe(204);
  });

  it('When the show is closer than REFUND_CUTOFF_HOURS, then a return is REFUND_CLOSED and nothing changes', async () => {
    const late = await buyer(soon, 1);
    expectProblem(
      await call('post', '/api/v1/payments/{paymentId}/refund', {
        params: { paymentId: late.paymentId },
        as: late,
      }),
      409,
      'REFUND_CLOSED',
    );
    expect(await balanceOf(late)).toBe(0);
    expect((await ticketsOf(late)).map((t) => t.status)).toEqual(['VALID']);
  });

  it('When a buyer lists tickets, then each paid seat has a code the public JWK set verifies, and a returned one is VOID', async () => {
    expectProblem(await call('get', '/api/v1/tickets'), 401, 'UNAUTHENTICATED');
    dave = await buyer(far, 2);
    const [ticket, ...rest] = await ticketsOf(dave);
    expect(rest).toEqual([]);
    expect(ticket).toMatchObject({
      paymentId: dave.paymentId,
      concertId,
      title: 'After the sale',
      venue: 'Hall',
      date: far,
      seatNumber: 2,
      status: 'VALID',
    });
    dave.code = ticket!.code;
    const [aliceTicket] = await ticketsOf(alice);
    expect(aliceTicket).toMatchObject({ paymentId: alice.paymentId, status: 'VOID' });
    alice.code = aliceTicket!.code;

    // A compact JWS (EdDSA): the gate checks it offline with the published key of its kid.
    const keys = await call('get', '/api/v1/tickets/keys');
    expect(keys.status).toBe(200);
    const [header, payload, signature] = dave.code.split('.') as [string, string, string];
    const { alg, kid } = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    expect(alg).toBe('EdDSA');
    const jwk = keys.body.keys.find((key) => key.kid === kid);
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk!.x }, format: 'jwk' });
    const signed = Buffer.from(`${header}.${payload}`);
    expect(verify(null, signed, publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
    expect(
      verify(null, Buffer.from(`${header}.${payload}x`), publicKey, Buffer.from(signature, 'base64url')),
    ).toBe(false);
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).toMatchObject({
      tid: ticket!.ticketId,
      cid: concertId,
      date: far,
      seat: 2,
    });
  });

  it('When the gate scans a ticket, then the first scan admits, later ones are TICKET_ALREADY_USED, void and forged codes refused', async () => {
    const checkIn = (code: string, headers: Record<string, string> = gate.headers) =>
      call('post', '/api/v1/gate/checkins', { headers, body: { code } });
    expectProblem(await checkIn(dave.code!, {}), 401, 'UNAUTHENTICATED');
    expectProblem(await checkIn(dave.code!, { 'gate-key': 'not-the-gate-key-000' }), 401, 'UNAUTHENTICATED');
    expectProblem(await checkIn(dave.code!, admin.headers), 401, 'UNAUTHENTICATED');

    const first = await checkIn(dave.code!);
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ date: far, seatNumber: 2 });
    expect(Date.parse(first.body.checkedInAt)).not.toBeNaN();
    const second = await checkIn(dave.code!);
    expectProblem(second, 409, 'TICKET_ALREADY_USED');
    expect(second.problem.checkedInAt).toBe(first.body.checkedInAt);

    expectProblem(await checkIn(alice.code!), 409, 'TICKET_VOID');
    const [header, payload, signature] = dave.code!.split('.') as [string, string, string];
    const edited = Buffer.from(payload, 'base64url').toString('utf8').replace('"seat":2', '"seat":3');
    expectProblem(
      await checkIn(`${header}.${Buffer.from(edited).toString('base64url')}.${signature}`),
      400,
      'TICKET_CODE_INVALID',
    );
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    expectProblem(await checkIn(`${header}.${payload}.${flipped}`), 400, 'TICKET_CODE_INVALID');
    expectProblem(await checkIn('bm90IGEgdGlja2V0'), 400, 'TICKET_CODE_INVALID');

    expect((await ticketsOf(dave)).map((t) => [t.status, t.checkedInAt])).toEqual([
      ['USED', first.body.checkedInAt],
    ]);
    // A ticket that entered cannot be returned.
    expectProblem(
      await call('post', '/api/v1/payments/{paymentId}/refund', {
        params: { paymentId: dave.paymentId },
        as: dave,
      }),
      409,
      'REFUND_CLOSED',
    );
  });

  it('When the operator cancels a date, then it closes at once and every payment is refunded in full, once', async () => {
    const erin = await buyer(cancelled, 3);
    const frank = await newUser();
    const frankQ = await admitted(frank);
    const frankHold = await hold(frank, frankQ, cancelled, 4);
    expect(frankHold.status, frankHold.text).toBe(201);
    // The POST answers 202 with the same object as the GET's 200 (the generated types name 200/201 bodies).
    const cancel = (method: 'get' | 'post', date: string, options: CallOptions = admin) =>
      send<Cancellation>(
        method.toUpperCase(),
        `/api/v1/admin/concerts/${concertId}/dates/${date}/cancel`,
        options,
      );

    expectProblem(await cancel('post', cancelled, {}), 401, 'UNAUTHENTICATED');
    expectProblem(await cancel('get', cancelled), 404, 'NOT_FOUND');
    expectProblem(await cancel('post', '2099-12-31'), 404, 'DATE_NOT_FOUND');
    expectProblem(await cancel('post', '2026-02-30'), 400, 'VALIDATION_FAILED');

    const started = await cancel('post', cancelled);
    expect(started.status, started.text).toBe(202);
    expect(started.body).toMatchObject({ date: cancelled, payments: 1 });
    expect(['CANCELLING', 'CANCELLED']).toContain(started.body.status);
    const done = await eventually(
      async () => {
        const progress = await cancel('get', cancelled);
        return progress.body.status === 'CANCELLED' && progress.body;
      },
      { timeoutMs: 60_000, what: 'the cancellation to finish' },
    );
    expect(done).toEqual({ date: cancelled, status: 'CANCELLED', payments: 1, refunded: 1 });
    const twice = await cancel('post', cancelled);
    expectProblem(twice, 409, 'DATE_CANCELLED');
    expect(twice.problem.cancellation).toEqual(done);

    // Refunded in full (no fee), once; the ticket is void.
    expect(await balanceOf(erin)).toBe(PRICE);
    const history = (await call('get', '/api/v1/balance/history', { as: erin })).body;
    expect(history.filter((entry) => entry.type === 'REFUND').map((entry) => entry.amount)).toEqual([PRICE]);
    expect((await ticketsOf(erin)).map((t) => t.status)).toEqual(['VOID']);

    // Gone from every list; holds and payments for it are DATE_CANCELLED.
    const listed = (await call('get', '/api/v1/concerts')).body.find((c) => c.concertId === concertId);
    expect(listed?.dates).not.toContain(cancelled);
    expect(listed?.dates).toContain(far);
    const dates = await call('get', '/api/v1/concerts/{concertId}/dates', {
      params: { concertId },
      as: frank,
      queueToken: frankQ,
    });
    expect(dates.body.map((d) => d.date)).not.toContain(cancelled);
    expectProblem(await hold(frank, frankQ, cancelled, 5), 409, 'DATE_CANCELLED');
    await call('post', '/api/v1/balance/charges', { as: frank, body: { amount: PRICE } });
    expectProblem(
      await call('post', '/api/v1/payments', {
        as: frank,
        queueToken: frankQ,
        body: { reservationId: (frankHold.body as { reservationId: string }).reservationId },
      }),
      409,
      'DATE_CANCELLED',
    );
    expect(await balanceOf(frank)).toBe(PRICE);
  });

  it('When the receiver fails and then recovers, then events wait as pending, a retry sends one now, signed, under its id', async () => {
    const list = (status?: string, options: CallOptions = admin) =>
      call('get', '/api/v1/admin/webhooks', { ...options, query: status ? `?status=${status}` : '' });
    expectProblem(await list('pending', {}), 401, 'UNAUTHENTICATED');
    expectProblem(await list('lost'), 400, 'VALIDATION_FAILED');

    // The receiver has answered 500 so far: events are pending with their failed attempts.
    const pending = await eventually(
      async () => {
        const { body } = await list('pending');
        const tried = body.events.filter((event) => event.attempts > 0);
        const types = new Set(tried.map((event) => event.type));
        return (
          ['payment.succeeded', 'payment.refunded', 'show.cancelled', 'ticket.checked_in'].every((type) =>
            types.has(type),
          ) && tried
        );
      },
      { timeoutMs: 60_000, what: 'an attempted event of each type' },
    );
    expect(pending[0]).toMatchObject({ status: 'pending', deliveredAt: null });
    expect(pending[0]!.lastError).toBeTruthy();
    // Nothing is given up before 24 h.
    expect((await list('failed')).body).toEqual({ events: [], nextCursor: null });

    const retry = (id: string, options: CallOptions = admin) =>
      call('post', '/api/v1/admin/webhooks/{id}/retry', { params: { id }, ...options });
    expectProblem(await retry(NO_SUCH_ID), 404, 'NOT_FOUND');
    expectProblem(await retry('nope'), 400, 'VALIDATION_FAILED');
    expectProblem(await retry(pending[0]!.id, {}), 401, 'UNAUTHENTICATED');

    answer = 200;
    const checkedIn = pending.find((event) => event.type === 'ticket.checked_in')!;
    const retried = await retry(checkedIn.id);
    expect(retried.status, retried.text).toBe(200);
    expect(retried.body).toMatchObject({ id: checkedIn.id, type: 'ticket.checked_in' });
    const delivery = await eventually(() => deliveries.find((d) => d.event.id === checkedIn.id), {
      timeoutMs: 30_000,
      what: 'the retried event at the receiver',
    });
    expect(delivery.event.data).toMatchObject({ seatNumber: 2, date: far });

    // Boxoffice-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">.
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(delivery.signature) ?? [];
    expect(t).toBeDefined();
    const expected = createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${delivery.raw}`).digest();
    expect(timingSafeEqual(expected, Buffer.from(v1!, 'hex'))).toBe(true);

    await eventually(
      async () => (await list('delivered')).body.events.some((event) => event.id === checkedIn.id),
      { timeoutMs: 30_000, what: 'the event listed as delivered' },
    );
  });
});
