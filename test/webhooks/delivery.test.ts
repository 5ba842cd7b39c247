import { sql } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createScratchDatabase } from '../../harness/cluster.js';
import { type Database, openDatabase, rowsOf } from '../../src/db/client.js';
import { ManualClock } from '../../src/shared/clock.js';
import {
  backoffMs,
  DELIVERED_RETENTION_MS,
  WEBHOOK_DISPATCHER_DEFAULTS,
  WebhookDispatcher,
} from '../../src/webhooks/webhook-dispatcher.js';
import { WebhookMetrics } from '../../src/webhooks/webhook-metrics.js';
import { WebhookStore } from '../../src/webhooks/webhook-store.js';
import { ADMIN_KEY, openQueueStore, startApp, testConfig } from '../helpers/app.js';
import { announceSkips, type Backend, backends, resetDatabase, serverUrls } from '../helpers/backends.js';
import { TestContext } from '../helpers/context.js';
import { Receiver } from './receiver.js';

/**
 * Webhooks through the outbox, against a real HTTP receiver that fails in every way a
 * receiver can (500, no answer, a dropped connection, a 200 after the sender gave up). Time is
 * the test's: the dispatcher runs when the test calls it, on a manual clock, so back-off and
 * the 24 h limit are asserted exactly; and a send times out when the test says so (the
 * dispatcher's timeout signal is the test's), once the receiver has the request: no race
 * against a busy machine decides what counts as "no answer in time".
 */

const SECRET = 'webhook-secret-of-at-least-32-bytes!!';
/**
 * Sends the test makes time out, by event id: each send's timeout signal, fired on demand. A
 * timeout the test never fires never ends a send (the real 10 s one is not in play).
 */
class Timeouts {
  private readonly signals = new Map<string, AbortController>();
  signal = (event: { id: string }): AbortSignal => {
    const controller = new AbortController();
    this.signals.set(event.id, controller);
    return controller.signal;
  };
  fire(id: string): void {
    this.signals.get(id)!.abort(new DOMException('the test says the time is up', 'TimeoutError'));
  }
}

announceSkips('webhooks');

/** The backend's database, with event recording on (as server.ts opens it when WEBHOOK_URL is set). */
async function openRecordingDatabase(backend: Backend): Promise<Database> {
  if (backend.kind === 'embedded')
    return openDatabase({ url: undefined, dataDir: 'memory', recordEvents: true });
  const scratch = await createScratchDatabase(serverUrls.database!, 'bo_test_');
  const database = await openDatabase({ url: scratch.url, dataDir: 'memory', recordEvents: true });
  return {
    ...database,
    async close() {
      await database.close();
      await scratch.drop();
    },
  };
}

describe.each(backends)('webhooks on $name', (backend) => {
  let database: Database;
  let receiver: Receiver;
  let ctx: TestContext;
  let dispose: () => Promise<void>;
  let clock: ManualClock;
  let store: WebhookStore;
  let dispatcher: WebhookDispatcher;
  let timeouts: Timeouts;

  // Migrating a fresh embedded database takes a while on a machine busy with other suites.
  beforeAll(async () => {
    database = await openRecordingDatabase(backend);
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await resetDatabase(database);
    await database.db.execute(sql`TRUNCATE webhook_events`);
    receiver = new Receiver(SECRET);
    await receiver.start();
    const config = testConfig({
      QUEUE_ADMIT_PER_SECOND: '1000',
      QUEUE_MAX_ACTIVE: '1000',
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
    });
    clock = new ManualClock();
    const queueStore = await openQueueStore(backend, config);
    const app = await startApp({ config, database, queueStore, clock });
    dispose = async () => {
      await app.close();
      await queueStore.dispose();
    };
    ctx = new TestContext(app, clock, queueStore, config, database);
    store = new WebhookStore(database.db);
    timeouts = new Timeouts();
    // Jitter fixed at its middle (factor 1): the schedule is exactly firstRetry × 3^(n-1).
    dispatcher = new WebhookDispatcher(
      store,
      clock,
      app.log,
      { url: receiver.url, secret: SECRET, concurrency: 4, timeoutSignal: timeouts.signal },
      undefined,
      () => 0.5,
    );
  });
  afterEach(async () => {
    await dispatcher.stop();
    await dispose();
    await receiver.stop();
  });

  /** A buyer who pays for one seat: returns the payment id. */
  async function paidSeat(concertId: string, date: string, seat: number): Promise<string> {
    const buyer = await ctx.activeBuyer(concertId, 100_000);
    const held = await ctx.hold(buyer, concertId, date, seat);
    expect(held.status).toBe(201);
    const reservationId = held.body.reservationId ?? held.body.reservations[0].reservationId;
    const paid = await ctx.pay(buyer, reservationId);
    expect(paid.status).toBe(201);
    return paid.body.paymentId;
  }

  async function rows() {
    return rowsOf<{
      id: string;
      status: string;
      attempts: number;
      next_ms: number;
      last_error: string | null;
    }>(
      await database.db.execute(sql`
        SELECT id, status, attempts, (extract(epoch from next_attempt_at) * 1000)::float8 AS next_ms, last_error
        FROM webhook_events ORDER BY created_at, id`),
    );
  }

  test('when the receiver fails every way a receiver can, then each payment still arrives, signed, under one id; a refused payment sends nothing', async () => {
    const { concertId, dates } = await ctx.newConcert({ seats: 10, price: 100_000 });
    const paymentIds = [await paidSeat(concertId, dates[0]!, 1), await paidSeat(concertId, dates[0]!, 2)];
    paymentIds.push(await paidSeat(concertId, dates[0]!, 3));
    // An effect that rolled back: a payment refused for want of balance records no event.
    const poor = await ctx.activeBuyer(concertId, 0);
    const held = await ctx.hold(poor, concertId, dates[0]!, 4);
    const refused = await ctx.pay(poor, held.body.reservationId ?? held.body.reservations[0].reservationId);
    expect(refused.body.code).toBe('INSUFFICIENT_BALANCE');
    expect(await rows()).toHaveLength(3);

    const metrics = await ctx.call('GET', '/metrics');
    expect(metrics.body).toMatch(/^boxoffice_webhook_events_pending 3$/m);

    // First round: the three sends meet a 500, silence past the timeout, and a dropped connection.
    const registry = new Registry();
    const metered = new WebhookMetrics(
      registry,
      () => store.counts(),
      () => clock.now(),
    );
    dispatcher = new WebhookDispatcher(
      store,
      clock,
      ctx.app.log,
      { url: receiver.url, secret: SECRET, concurrency: 4, timeoutSignal: timeouts.signal },
      metered,
      () => 0.5,
    );
    receiver.plan = ['500', 'hang', 'close', 'late'];
    const t0 = clock.now();
    let round = dispatcher.dispatch();
    await receiver.until(() => receiver.received.length === 3, 'the first three sends');
    timeouts.fire(receiver.received.find((r) => r.behaviour === 'hang')!.id);
    expect(await round).toBe(3);
    let now = await rows();
    expect(now.map((r) => [r.status, r.attempts, r.next_ms])).toEqual(
      Array(3).fill(['pending', 1, t0 + WEBHOOK_DISPATCHER_DEFAULTS.firstRetryMs]),
    );
    expect(now.map((r) => r.last_error).sort()).toEqual([
      'HTTP 500',
      expect.stringContaining('fetch failed'),
      'no answer within 10 s',
    ]);
    // Not due yet: nothing is sent before its back-off ends.
    clock.advance(WEBHOOK_DISPATCHER_DEFAULTS.firstRetryMs - 1);
    expect(await dispatcher.dispatch()).toBe(0);

    // Second round: one answers 200 too late (the sender gave up), the other two are delivered.
    clock.advance(1);
    round = dispatcher.dispatch();
    await receiver.until(() => receiver.received.some((r) => r.behaviour === 'late'), 'the late one');
    timeouts.fire(receiver.received.find((r) => r.behaviour === 'late')!.id);
    expect(await round).toBe(3);
    // Its 200 comes now, after the sender gave up and recorded a failure.
    receiver.release();
    now = await rows();
    expect(now.filter((r) => r.status === 'delivered')).toHaveLength(2);
    const late = now.find((r) => r.status === 'pending')!;
    expect(late).toMatchObject({
      attempts: 2,
      next_ms: clock.now() + 3 * WEBHOOK_DISPATCHER_DEFAULTS.firstRetryMs,
    });

    clock.advance(3 * WEBHOOK_DISPATCHER_DEFAULTS.firstRetryMs);
    expect(await dispatcher.dispatch()).toBe(1);
    expect((await rows()).every((r) => r.status === 'delivered')).toBe(true);
    expect(await dispatcher.dispatch()).toBe(0);
    const exposition = await registry.metrics();
    expect(exposition).toMatch(/^boxoffice_webhook_events_pending 0$/m);
    expect(exposition).toMatch(/^boxoffice_webhook_attempts_total\{outcome="retry"\} 4$/m);
    expect(exposition).toMatch(/^boxoffice_webhook_attempts_total\{outcome="delivered"\} 3$/m);
    // Created → delivered on the test's clock: the back-offs plus the time between the payments.
    expect(exposition).toMatch(/^boxoffice_webhook_delivery_latency_seconds_bucket\{le="2.5"\} 0$/m);
    expect(exposition).toMatch(/^boxoffice_webhook_delivery_latency_seconds_bucket\{le="30"\} 3$/m);

    // What the receiver saw: every request signed, every payment delivered, under one id each.
    expect(receiver.received).toHaveLength(7);
    expect(receiver.received.every((r) => r.signatureOk && r.signedAt === Math.floor(r.signedAt!))).toBe(
      true,
    );
    expect(receiver.received.every((r) => r.type === 'payment.succeeded')).toBe(true);
    const byPayment = new Map<string, Set<string>>();
    for (const r of receiver.received) {
      const ids = byPayment.get(r.data.paymentId as string) ?? new Set();
      byPayment.set(r.data.paymentId as string, ids.add(r.id));
    }
    expect([...byPayment.keys()].sort()).toEqual([...paymentIds].sort());
    expect([...byPayment.values()].every((ids) => ids.size === 1)).toBe(true);
    expect(receiver.deliveredIds().size).toBe(3);
    // The same bytes every time: a duplicate is recognisable by its id, and its body is the same.
    const lateSends = receiver.received.filter((r) => r.id === late.id);
    expect(lateSends.length).toBeGreaterThanOrEqual(2);
    expect(new Set(lateSends.map((r) => r.rawBody)).size).toBe(1);
    // A tampered body or another secret does not verify.
    const { verifySignature, signatureOf } = await import('../../src/webhooks/signature.js');
    const sample = receiver.received[0]!;
    const header = signatureOf(SECRET, sample.signedAt!, sample.rawBody);
    expect(verifySignature(SECRET, header, sample.rawBody)).toBe(sample.signedAt);
    expect(verifySignature(SECRET, header, sample.rawBody.replace('"id"', '"ID"'))).toBeNull();
    expect(verifySignature(`${SECRET}x`, header, sample.rawBody)).toBeNull();
  });

  test('when the receiver keeps failing, then retries back off 5 s, 15 s, 45 s … up to an hour, and the event fails at 24 h', async () => {
    const { concertId, dates } = await ctx.newConcert({ seats: 5 });
    await paidSeat(concertId, dates[0]!, 1);
    const [event] = await rows();
    const createdAt = clock.now();
    receiver.otherwise = '500';
    const gaps: number[] = [];
    for (let i = 0; i < 100; i++) {
      expect(await dispatcher.dispatch()).toBe(1);
      const [row] = await rows();
      if (row!.status === 'failed') break;
      gaps.push(row!.next_ms - clock.now());
      clock.set(row!.next_ms);
    }
    const day = 24 * 3600 * 1000;
    const [failed] = await rows();
    expect(failed).toMatchObject({ id: event!.id, status: 'failed', last_error: 'HTTP 500' });
    expect(clock.now()).toBe(createdAt + day);
    const steps = [5, 15, 45, 135, 405, 1215].map((s) => s * 1000);
    expect(gaps.slice(0, 6)).toEqual(steps);
    // Hourly from then on, the last one cut short so it falls on the 24 h mark itself.
    const hourly = gaps.slice(6, -1);
    expect(hourly.every((g) => g === 3600_000)).toBe(true);
    expect(gaps.at(-1)).toBe(day - steps.reduce((a, b) => a + b, 0) - hourly.length * 3600_000);
    expect(failed!.attempts).toBe(gaps.length + 1);
    expect(receiver.received).toHaveLength(failed!.attempts);
    // Nothing more is sent for it.
    clock.advance(day);
    expect(await dispatcher.dispatch()).toBe(0);
  });

  test('when a receiver never answers, then the real timeout ends the send, and a stopping instance hands its sends back at once', async () => {
    const { concertId, dates } = await ctx.newConcert({ seats: 5 });
    await paidSeat(concertId, dates[0]!, 1);
    receiver.otherwise = 'hang';
    // The real timer: the receiver never answers, so whatever the machine's load, it is the timeout that ends it.
    const timed = new WebhookDispatcher(store, clock, ctx.app.log, {
      url: receiver.url,
      secret: SECRET,
      timeoutMs: 50,
    });
    expect(await timed.dispatch()).toBe(1);
    expect(await rows()).toMatchObject([
      { status: 'pending', attempts: 1, last_error: 'no answer within 0.05 s' },
    ]);

    // Stopping mid-send: the event is due again now, for an instance that keeps running.
    clock.set((await rows())[0]!.next_ms);
    const round = dispatcher.dispatch();
    await receiver.until(() => receiver.received.length === 2, 'the second send');
    await dispatcher.stop();
    expect(await round).toBe(1);
    expect(await rows()).toMatchObject([
      { status: 'pending', attempts: 2, next_ms: clock.now(), last_error: 'instance stopping' },
    ]);
  });

  test('when several dispatchers claim at once, then each event is sent once (SKIP LOCKED: claims never overlap)', async () => {
    // Events as the effects record them (record_event), without the effects: this is about claiming.
    await database.db.execute(
      sql`SELECT record_event('payment.succeeded', jsonb_build_object('n', n), ${new Date(clock.now())}) FROM generate_series(1, 60) n`,
    );
    // Rounds unbounded: whichever dispatchers stop early (a short claim), the last one left takes the rest.
    const dispatchers = Array.from(
      { length: 3 },
      () =>
        new WebhookDispatcher(store, clock, ctx.app.log, {
          url: receiver.url,
          secret: SECRET,
          concurrency: 5,
          maxRoundsPerPeriod: 100,
        }),
    );
    const attempted = await Promise.all(dispatchers.map((d) => d.dispatch()));
    expect(attempted.reduce((a, b) => a + b, 0)).toBe(60);
    expect(receiver.received).toHaveLength(60);
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(60);
    expect((await rows()).every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
  });

  test('when delivered events are a week old, then the dispatcher purges them, and never a pending or failed one', async () => {
    await database.db.execute(
      sql`SELECT record_event('payment.succeeded', jsonb_build_object('n', n), ${new Date(clock.now())}) FROM generate_series(1, 3) n`,
    );
    expect(await dispatcher.dispatch()).toBe(3);
    // Recorded later, never delivered (the receiver is down from now on).
    receiver.otherwise = '500';
    clock.advance(DELIVERED_RETENTION_MS);
    await database.db.execute(
      sql`SELECT record_event('payment.refunded', '{}'::jsonb, ${new Date(clock.now())})`,
    );
    clock.advance(1);
    await dispatcher.dispatch();
    const left = await rows();
    expect(left).toHaveLength(1);
    expect(left[0]!.status).toBe('pending');
  });

  test('when an instance claims events and dies, then another sends them once the lease runs out', async () => {
    const { concertId, dates } = await ctx.newConcert({ seats: 5 });
    await paidSeat(concertId, dates[0]!, 1);
    // The dead instance's claim: counted as an attempt, leased, never answered.
    const claimed = await store.claim(clock.now(), WEBHOOK_DISPATCHER_DEFAULTS.leaseMs, 10);
    expect(claimed).toHaveLength(1);
    expect(await dispatcher.dispatch()).toBe(0);
    clock.advance(WEBHOOK_DISPATCHER_DEFAULTS.leaseMs - 1);
    expect(await dispatcher.dispatch()).toBe(0);
    clock.advance(1);
    expect(await dispatcher.dispatch()).toBe(1);
    expect(await rows()).toMatchObject([{ status: 'delivered', attempts: 2 }]);
    expect(receiver.received.map((r) => r.id)).toEqual([claimed[0]!.id]);
  });

  test('when the operator lists and retries, then failed events are found and sent again now', async () => {
    const admin = { 'admin-key': ADMIN_KEY };
    const { concertId, dates } = await ctx.newConcert({ seats: 5 });
    for (const seat of [1, 2, 3]) {
      await paidSeat(concertId, dates[0]!, seat);
      clock.advance(1000);
    }
    // The oldest fails for good (24 h of 500s, in one leap), the other two are delivered.
    receiver.plan = ['500'];
    const [oldest] = await rows();
    await database.db.execute(
      sql`UPDATE webhook_events SET next_attempt_at = next_attempt_at + interval '2 days' WHERE id <> ${oldest!.id}`,
    );
    clock.advance(24 * 3600 * 1000);
    expect(await dispatcher.dispatch()).toBe(1);
    clock.advance(24 * 3600 * 1000);
    expect(await dispatcher.dispatch()).toBe(2);

    const failed = await ctx.call('GET', '/api/v1/admin/webhooks?status=failed', { headers: admin });
    expect(failed.status).toBe(200);
    expect(failed.body.events).toHaveLength(1);
    expect(failed.body.events[0]).toMatchObject({
      id: oldest!.id,
      type: 'payment.succeeded',
      status: 'failed',
      attempts: 1,
      lastError: 'HTTP 500',
      nextAttemptAt: null,
      deliveredAt: null,
    });
    expect(failed.body.nextCursor).toBeNull();

    // Every status, newest first, a page at a time.
    const first = await ctx.call('GET', '/api/v1/admin/webhooks?limit=2', { headers: admin });
    expect(first.body.events.map((e: { status: string }) => e.status)).toEqual(['delivered', 'delivered']);
    const second = await ctx.call('GET', `/api/v1/admin/webhooks?limit=2&cursor=${first.body.nextCursor}`, {
      headers: admin,
    });
    expect(second.body.events.map((e: { id: string }) => e.id)).toEqual([oldest!.id]);
    expect(second.body.nextCursor).toBeNull();
    const delivered = await ctx.call('GET', '/api/v1/admin/webhooks?status=delivered', { headers: admin });
    expect(delivered.body.events).toHaveLength(2);
    expect(delivered.body.events[0].deliveredAt).toBe(new Date(clock.now()).toISOString());

    // Sent again now, and delivered.
    const retried = await ctx.call('POST', `/api/v1/admin/webhooks/${oldest!.id}/retry`, { headers: admin });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({
      id: oldest!.id,
      status: 'pending',
      nextAttemptAt: new Date(clock.now()).toISOString(),
    });
    expect(await dispatcher.dispatch()).toBe(1);
    expect(await rows()).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: oldest!.id, status: 'delivered', attempts: 2 })]),
    );
    expect(receiver.deliveredIds().has(oldest!.id)).toBe(true);

    // Bad input: each a problem, nothing changed.
    const unknown = await ctx.call(
      'POST',
      '/api/v1/admin/webhooks/00000000-0000-4000-8000-000000000000/retry',
      {
        headers: admin,
      },
    );
    expect([unknown.status, unknown.body.code]).toEqual([404, 'NOT_FOUND']);
    const malformed = await ctx.call('POST', '/api/v1/admin/webhooks/nope/retry', { headers: admin });
    expect([malformed.status, malformed.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const badStatus = await ctx.call('GET', '/api/v1/admin/webhooks?status=lost', { headers: admin });
    expect([badStatus.status, badStatus.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const badCursor = await ctx.call('GET', '/api/v1/admin/webhooks?cursor=garbage', { headers: admin });
    expect([badCursor.status, badCursor.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const anonymous = await ctx.call('GET', '/api/v1/admin/webhooks');
    expect([anonymous.status, anonymous.body.code]).toEqual([401, 'UNAUTHENTICATED']);
  });
});

describe('back-off', () => {
  test('when the jitter is at its ends, then each delay stays within ±25 % of its step and still grows', () => {
    const at = (n: number, r: number) => backoffMs(n, WEBHOOK_DISPATCHER_DEFAULTS, () => r);
    expect([at(1, 0), at(1, 0.5), at(1, 0.999_999)]).toEqual([3750, 5000, 6250]);
    for (let n = 1; n < 7; n++) expect(at(n + 1, 0)).toBeGreaterThan(at(n, 0.999_999));
    expect(at(30, 0.5)).toBe(3600_000);
  });
});
