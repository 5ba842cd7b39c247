import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup } from '../../harness/cleanup.js';
import { ClusterClient } from '../../harness/http.js';
import { type Service, startService } from '../../harness/service.js';
import { eventually } from '../../harness/wait.js';
import { Receiver } from '../webhooks/receiver.js';
import {
  adminUrl,
  type Buyer,
  createConcert,
  gated,
  join,
  ownRedis,
  requireServers,
  type ServerSettings,
  serversReady,
  untilActive,
} from './support.js';

/**
 * Webhooks across instances, one SIGKILLed mid-delivery (issue 18 item 5). Two instances share
 * PostgreSQL and Redis; each POSTs to its own path of one receiver, so the test knows who sent
 * what. Forty payments record forty events; the receiver holds every request open, and once
 * instance 0 is holding some, it is SIGKILLed. Its claims come back when their lease ends (30 s)
 * and instance 1 sends them: every event arrives, answered 2xx, under the id it was recorded
 * with, signed, and the outbox ends with all of them delivered. Duplicates are allowed.
 */

requireServers('webhooks kill');

const SECRET = 'cluster-webhook-secret-of-32-bytes-at-least';
const PAYMENTS = 40;
const SETTINGS: ServerSettings = {
  QUEUE_MAX_ACTIVE: 100,
  QUEUE_ADMIT_PER_SECOND: 100,
  QUEUE_ACTIVE_TTL_SECONDS: 120,
  HOLD_TTL_SECONDS: 120,
  QUEUE_IDLE_TIMEOUT_SECONDS: 120,
};

/** A buyer with a balance; a sign-up shed with 503 (nothing written) is simply asked again. */
async function buyerWithBalance(client: ClusterClient, index: number): Promise<Buyer> {
  const user = await client.call<{ userId: string; accessToken: string }>('POST', '/api/v1/users', {
    body: { name: `hook ${index}` },
    retryable: true,
  });
  expect(user.status, JSON.stringify(user.body)).toBe(201);
  const auth = { authorization: `Bearer ${user.body.accessToken}` };
  const charged = await client.call('POST', '/api/v1/balance/charges', {
    headers: { ...auth, 'idempotency-key': `webhooks-charge-${index}` },
    body: { amount: 100_000 },
  });
  expect(charged.status, JSON.stringify(charged.body)).toBe(200);
  return { userId: user.body.userId, auth };
}

describe.skipIf(!serversReady)('webhooks with an instance SIGKILLed mid-delivery', () => {
  const cleanups = new Cleanup();
  const receiver = new Receiver(SECRET);
  let service: Service<ServerSettings>;

  beforeAll(async () => {
    receiver.otherwise = 'hold';
    await receiver.start();
    cleanups.add('receiver.stop', () => receiver.stop());
    const redisUrl = await ownRedis(cleanups);
    service = await startService({
      mode: 'servers',
      instances: 2,
      scratchDatabase: { adminUrl: adminUrl!, prefix: 'bo_webhooks_' },
      redisUrl,
      settings: SETTINGS,
      fromSource: true,
      extra: { WEBHOOK_SECRET: SECRET },
      cluster: { envOf: (index) => ({ WEBHOOK_URL: `${receiver.url}/${index}` }) },
      cleanup: cleanups,
    });
  }, 120_000);
  afterAll(() => cleanups.runAll(), 60_000);

  it('when instance 0 dies holding deliveries, then every event still arrives with its id', async () => {
    // Attempts to spare: an instance that sheds load (503 before any store is asked) is asked again.
    const client = new ClusterClient({ targets: service.urls, maxInFlight: 64, maxAttempts: 20 });
    cleanups.add('client.close', () => client.close());
    const { concertId, date } = await createConcert(client, service.adminKey, PAYMENTS);
    service.trackConcert(concertId);

    const paymentIds = await Promise.all(
      Array.from({ length: PAYMENTS }, async (_, i) => {
        const buyer = await buyerWithBalance(client, i);
        await join(client, buyer, concertId);
        await untilActive(client, buyer, 60_000);
        const held = await client.call<{
          reservationId?: string;
          reservations?: { reservationId: string }[];
        }>('POST', '/api/v1/reservations', {
          headers: gated(buyer),
          body: { concertId, date, seatNumber: i + 1 },
          // A shed request (503) held nothing: asking again is safe.
          retryable: true,
        });
        expect(held.status, JSON.stringify(held.body)).toBe(201);
        const paid = await client.call<{ paymentId: string }>('POST', '/api/v1/payments', {
          headers: { ...gated(buyer), 'idempotency-key': `webhooks-${i}` },
          body: { reservationId: held.body.reservationId ?? held.body.reservations![0]!.reservationId },
        });
        expect(paid.status, JSON.stringify(paid.body)).toBe(201);
        return paid.body.paymentId;
      }),
    );

    // Instance 0 is mid-delivery: requests of its own are open at the receiver, unanswered.
    const heldBy0 = () =>
      receiver.received.filter((r) => r.path.endsWith('/0') && !r.abandoned && !r.answered2xx);
    await receiver.until(() => heldBy0().length > 0, 'instance 0 holding a delivery');
    const interrupted = heldBy0().map((r) => r.id);
    await service.cluster.kill(0);
    // Its connections are gone (so nothing below answers them by mistake).
    await receiver.until(
      () =>
        receiver.received
          .filter((r) => interrupted.includes(r.id) && r.path.endsWith('/0'))
          .every((r) => r.abandoned),
      "instance 0's connections closed",
    );
    // From now on the receiver answers at once, the requests instance 1 holds included.
    receiver.otherwise = 'ok';
    receiver.release();

    const db = new pg.Client({ connectionString: service.databaseUrl! });
    await db.connect();
    cleanups.add('db.end', () => db.end());
    const outbox = async () =>
      (
        await db.query<{ id: string; status: string; payment_id: string }>(
          `SELECT id, status, data->>'paymentId' AS payment_id FROM webhook_events WHERE type = 'payment.succeeded'`,
        )
      ).rows;
    // The killed instance's claims come back after their 30 s lease.
    await eventually(async () => (await outbox()).every((e) => e.status === 'delivered'), {
      timeoutMs: 90_000,
      everyMs: 500,
      what: 'every event delivered',
    });

    const events = await outbox();
    // One event per payment, none for anything else.
    expect(events.map((e) => e.payment_id).sort()).toEqual([...paymentIds].sort());
    // Each arrived, answered 2xx, under its recorded id; every request was signed.
    const delivered = receiver.deliveredIds();
    expect(events.filter((e) => !delivered.has(e.id))).toEqual([]);
    expect(receiver.received.every((r) => r.signatureOk)).toBe(true);
    expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set(events.map((e) => e.id)));
    // The kill cut instance 0's deliveries short, and instance 1 sent those same ids again.
    expect(interrupted.length).toBeGreaterThan(0);
    for (const id of interrupted) {
      expect(receiver.received.some((r) => r.id === id && r.path.endsWith('/1') && r.answered2xx)).toBe(true);
    }
    console.log(
      `webhooks-kill: ${events.length} events, ${receiver.received.length} requests, ${interrupted.length} cut short by the kill and sent again by instance 1`,
    );
  }, 180_000);
});
