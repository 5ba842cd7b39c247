import { describe, expect, test } from 'vitest';
import type { TicketView } from '../../src/queue/queue-store.js';
import { announceSkips, backends } from '../helpers/backends.js';
import { type TestContext, useService } from '../helpers/context.js';

announceSkips('lost ticket');

/**
 * The queue store lost its data (an empty Redis after a failover): from now on it reports every
 * ticket as `{state: 'EXPIRED', lost: true}`, as the store does once it notices the loss.
 */
function loseQueueData(s: TestContext): void {
  everyTicketReads(s, { state: 'EXPIRED', lost: true });
}

/** The store reads every ticket so, one at a time or in a batch (the gate batches its reads). */
function everyTicketReads(s: TestContext, view: TicketView): void {
  s.store.view = async () => view;
  s.store.viewMany = async (_concertId, tickets) => tickets.map(() => view);
}

describe.each(backends)('a queue ticket lost with the store on $name', (backend) => {
  const service = useService(backend);

  test('when the line lost its data, then a buyer can still pay for the seat they hold, and only for that', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert({ price: 10_000 });
    const other = await s.newConcert({ price: 10_000 });
    const buyer = await s.activeBuyer(concertId, 100_000);
    const rival = await s.activeBuyer(concertId, 100_000);
    const mine = await s.hold(buyer, concertId, dates[0]!, 1);
    const lapsing = await s.hold(buyer, concertId, dates[0]!, 2);
    const theirs = await s.hold(rival, concertId, dates[0]!, 3);
    const elsewhere = await s.activeBuyer(other.concertId, 100_000);
    s.clock.advance(1000);

    loseQueueData(s);
    // The gate itself is unchanged: no new hold on a lost ticket.
    expect((await s.hold(buyer, concertId, dates[0]!, 4)).body.code).toBe('QUEUE_TOKEN_EXPIRED');
    // Anything but paying one's own live hold of that concert is refused as the gate refuses it.
    expect((await s.pay(buyer, theirs.body.reservationId)).body.code).toBe('QUEUE_TOKEN_EXPIRED');
    expect((await s.pay(elsewhere, mine.body.reservationId)).body.code).toBe('QUEUE_TOKEN_EXPIRED');

    const paid = await s.pay(buyer, mine.body.reservationId, 'after-loss');
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({
      reservationId: mine.body.reservationId,
      amount: 10_000,
      balance: 90_000,
    });
    expect((await s.pay(buyer, mine.body.reservationId, 'after-loss')).body).toEqual(paid.body);

    s.clock.advance(s.config.holdTtlMs);
    expect((await s.pay(buyer, lapsing.body.reservationId)).body.code).toBe('QUEUE_TOKEN_EXPIRED');
    expect((await s.call('GET', '/api/v1/balance', { user: buyer.user })).body.balance).toBe(90_000);
  });

  test('when a ticket simply expired (nothing lost), then paying is refused by the gate as before', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert({ price: 10_000 });
    const buyer = await s.activeBuyer(concertId, 100_000);
    const held = await s.hold(buyer, concertId, dates[0]!, 1);
    everyTicketReads(s, { state: 'EXPIRED' });
    expect((await s.pay(buyer, held.body.reservationId)).body.code).toBe('QUEUE_TOKEN_EXPIRED');
  });
});
