import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { drawOrder } from '../../scripts/verify-draw.mjs';
import { addDays, todayUtc } from '../../src/concerts/dates.js';
import {
  ADMIN_KEY,
  eventually,
  hasChromium,
  LAPTOP,
  newVisitor,
  PHONE,
  pageProblems,
  publish,
  RESULTS_DIR,
  shot,
  sleep,
  useStack,
} from './harness.js';
import { createMe, en, ko, shownPosition } from './steps.js';

/** The sale is scheduled ten minutes ahead, then brought forward once the pre-queue is full. */
const SCHEDULED_IN_MS = 10 * 60_000;
const OPENS_IN_MS = 6_000;
const PREQUEUED = 40;

const consoleOf = (page: Page, concertId: string) =>
  page.locator(`section.console[data-concert-id="${concertId}"]`);

describe.skipIf(!hasChromium)('sale day in the browser', () => {
  const stack = useStack({
    QUEUE_MAX_ACTIVE: '4',
    QUEUE_ADMIT_PER_SECOND: '2',
    QUEUE_ACTIVE_TTL_SECONDS: '8',
  });

  it('When a sale is scheduled, then the buyer sees a countdown and the pre-queue, gets a drawn place at the opening, and the operator watches the line, admissions and sales move on live charts', async () => {
    const base = stack.server().url;
    const api = async (
      method: string,
      path: string,
      body?: object,
      headers: Record<string, string> = {},
    ): Promise<{ status: number; body: any }> => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: res.status === 204 ? null : await res.json() };
    };
    const admin = { 'admin-key': ADMIN_KEY };
    const opensAt = new Date(Date.now() + SCHEDULED_IN_MS).toISOString();
    const created = await api(
      'POST',
      '/api/v1/admin/concerts',
      {
        title: 'Sale Day Live',
        venue: 'Olympic Hall',
        saleOpensAt: opensAt,
        dates: [{ date: addDays(todayUtc(Date.now()), 40), seats: 60, price: 88_000 }],
      },
      admin,
    );
    expect(created.status).toBe(201);
    const concertId: string = created.body.concertId;

    const operator = await newVisitor(stack.browser(), base, LAPTOP);
    // The operator works in English (the screenshot goes into the README).
    await operator.context.addInitScript("localStorage.setItem('boxoffice.lang', JSON.stringify('en'))");
    const buyer = await newVisitor(stack.browser(), base, PHONE);
    // A crowd through the API, each polling like a waiting room does.
    const crowd: { accessToken: string; token: string; ticket: number }[] = [];
    let polling = true;
    const pollers: Promise<void>[] = [];
    try {
      await operator.page.goto('/#/admin');
      await operator.page.getByLabel(en['admin.key']).fill(ADMIN_KEY);
      await operator.page.getByRole('button', { name: en['admin.signIn'] }).click();
      await consoleOf(operator.page, concertId).waitFor();

      // The buyer sees the countdown, joins, and lands in the pre-queue without a place.
      await buyer.page.goto(`/#/concerts/${concertId}`);
      await createMe(buyer.page, 'early bird');
      await buyer.page.getByTestId('sale-countdown').waitFor();
      await buyer.page.getByRole('button', { name: ko['queue.join'] }).click();
      await buyer.page.getByTestId('prequeue').waitFor();
      await buyer.page.getByText(ko['sale.prequeue']).waitFor();
      const buyerTicket = Number(
        (await buyer.page.getByTestId('draw-ticket').textContent())?.match(/\d+/)?.[0],
      );
      publish(await shot(buyer.page, 'sale-01-prequeue'), 'sale-prequeue.png');

      for (let i = 0; i < PREQUEUED; i++) {
        const { accessToken } = (await api('POST', '/api/v1/users', { name: `fan${i}` })).body;
        await api(
          'POST',
          '/api/v1/balance/charges',
          { amount: 200_000 },
          { authorization: `Bearer ${accessToken}` },
        );
        const joined = await api(
          'POST',
          '/api/v1/queue/tokens',
          { concertId },
          { authorization: `Bearer ${accessToken}` },
        );
        expect(joined.body).toMatchObject({ status: 'WAITING', position: null });
        crowd.push({ accessToken, token: joined.body.token, ticket: joined.body.ticket });
      }
      // Each fan polls; once admitted, buys one seat and leaves, so sales and revenue move.
      let nextSeat = 1;
      for (const fan of crowd) {
        pollers.push(
          (async () => {
            while (polling) {
              const status = (
                await api('GET', '/api/v1/queue/status', undefined, { 'queue-token': fan.token })
              ).body;
              if (status.status === 'ACTIVE') {
                const gated = { authorization: `Bearer ${fan.accessToken}`, 'queue-token': fan.token };
                const date = created.body.dates[0];
                const hold = await api(
                  'POST',
                  '/api/v1/reservations',
                  { concertId, date, seatNumber: nextSeat++ },
                  gated,
                );
                if (hold.status === 201)
                  await api('POST', '/api/v1/payments', { reservationId: hold.body.reservationId }, gated);
                return;
              }
              if (status.status === 'EXPIRED') return;
              await sleep(1000);
            }
          })(),
        );
      }
      await expect
        .poll(() => consoleOf(operator.page, concertId).locator('[data-stat="prequeued"] dd').textContent())
        .toBe(String(PREQUEUED + 1));
      // The operator brings the opening forward (however long filling took on a busy machine).
      const moved = await api(
        'PATCH',
        `/api/v1/admin/concerts/${concertId}/queue`,
        { saleOpensAt: new Date(Date.now() + OPENS_IN_MS).toISOString() },
        admin,
      );
      expect(moved.status).toBe(200);

      // The opening: the buyer's screen turns into a drawn place, without a reload.
      const queueState = () => buyer.page.locator('section.queue').getAttribute('data-queue-state');
      const shown = await eventually(
        async () => {
          const position = await shownPosition(buyer.page);
          if (position !== null) return { position };
          return (await queueState()) === 'ACTIVE' ? { position: 0 } : null;
        },
        { timeoutMs: OPENS_IN_MS + 15_000, what: 'a drawn place on the buyer’s screen' },
      );
      const draw = (await api('GET', `/api/v1/concerts/${concertId}/draw`)).body;
      const tickets = [buyerTicket, ...crowd.map((c) => c.ticket)];
      expect(draw.tickets).toEqual(drawOrder(draw.seed, tickets));
      const place = draw.tickets.indexOf(buyerTicket) + 1;
      // Shown place: at most the drawn one (those ahead may already be in), or in already.
      expect(shown.position).toBeLessThanOrEqual(place);
      await shot(buyer.page, 'sale-02-drawn-place');

      // The console's charts fill in as the line moves and seats sell (a sample every 5 s).
      const charts = consoleOf(operator.page, concertId).locator('.sale-charts');
      await eventually(async () => (Number(await charts.getAttribute('data-samples')) >= 4 ? true : null), {
        timeoutMs: 60_000,
        what: 'four samples on the charts',
      });
      await eventually(
        async () =>
          Number(await charts.locator('[data-chart="sold"]').getAttribute('data-last')) > 0 ? true : null,
        { timeoutMs: 60_000, what: 'sales on the charts' },
      );
      await shot(operator.page, 'sale-03-console-live');
      const live = join(RESULTS_DIR, 'sale-03-console-live-card.png');
      await consoleOf(operator.page, concertId).screenshot({ path: live, animations: 'disabled' });
      publish(live, 'operator-live-console.png');

      // The operator moves the opening of another concert from the console.
      const later = await api(
        'POST',
        '/api/v1/admin/concerts',
        {
          title: 'Encore',
          venue: 'Hall',
          dates: [{ date: addDays(todayUtc(Date.now()), 50), price: 10_000 }],
        },
        admin,
      );
      await operator.page.reload();
      const encore = consoleOf(operator.page, later.body.concertId);
      await encore.waitFor();
      const when = new Date(Date.now() + 3 * 3600_000);
      await encore.getByLabel(en['admin.opening']).fill(when.toISOString().slice(0, 16));
      await encore.getByRole('button', { name: en['admin.setOpening'] }).click();
      await expect
        .poll(async () => {
          const listed = (await api('GET', '/api/v1/concerts')).body as {
            concertId: string;
            saleOpensAt: string;
          }[];
          return listed.find((c) => c.concertId === later.body.concertId)?.saleOpensAt;
        })
        .toBe(`${when.toISOString().slice(0, 16)}:00.000Z`);
      await shot(operator.page, 'sale-04-opening-moved');
      expect(pageProblems(buyer.page)).toEqual([]);
      expect(pageProblems(operator.page)).toEqual([]);
    } finally {
      polling = false;
      await Promise.allSettled(pollers);
      await operator.context.close();
      await buyer.context.close();
    }
  }, 150_000);
});
