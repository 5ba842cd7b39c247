// After the sale in a real browser (issue 18): a buyer returns a ticket from the receipt, the
// gate admits a ticket's QR code once and refuses it the second time, and the operator cancels
// a date by typing it and watches the refunds reach CANCELLED.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DEMO_CONCERT_ID } from '../../src/concerts/demo-seed.js';
import {
  ADMIN_KEY,
  hasChromium,
  LAPTOP,
  newVisitor,
  PHONE,
  pageProblems,
  publish,
  shot,
  useStack,
} from './harness.js';
import {
  createMe,
  en,
  joinLine,
  ko,
  onCheckout,
  openConcert,
  openDate,
  seat,
  waitUntilActive,
} from './steps.js';

const GATE_KEY = 'test-gate-key-0123456789';
/** The demo hall's VIP row (seats 1–10) and its price; REFUND_FEE_PERCENT is 10 by default. */
const VIP_PRICE = 165_000;
const won = (amount: number) => `${new Intl.NumberFormat('ko-KR').format(amount)}원`;

// ---------------------------------------------------------------------------------------------
// A buyer through the HTTP API, for the steps that are not what a test is about.

interface Buyer {
  userId: string;
  accessToken: string;
}

async function json<T>(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T, text };
}

/** A new buyer let into the demo hall's line: its access token and its queue token. */
async function admitted(base: string): Promise<{ buyer: Buyer; queueToken: string }> {
  const buyer = (await json<Buyer>(base, 'POST', '/api/v1/users', {}, {})).body;
  const auth = { Authorization: `Bearer ${buyer.accessToken}` };
  const joined = await json<{ token: string }>(base, 'POST', '/api/v1/queue/tokens', auth, {
    concertId: DEMO_CONCERT_ID,
  });
  const queueToken = joined.body.token;
  await expect
    .poll(
      async () =>
        (await json<{ status: string }>(base, 'GET', '/api/v1/queue/status', { 'Queue-Token': queueToken }))
          .body.status,
      {
        timeout: 15_000,
      },
    )
    .toBe('ACTIVE');
  return { buyer, queueToken };
}

/** A buyer who has paid for `seatNumber` on `date`. */
async function paidBuyer(
  base: string,
  date: string,
  seatNumber: number,
): Promise<Buyer & { paymentId: string }> {
  const { buyer, queueToken } = await admitted(base);
  const headers = { Authorization: `Bearer ${buyer.accessToken}`, 'Queue-Token': queueToken };
  const held = await json<{ reservationId: string }>(base, 'POST', '/api/v1/reservations', headers, {
    concertId: DEMO_CONCERT_ID,
    date,
    seatNumber,
  });
  expect(held.status, held.text).toBe(201);
  expect((await json(base, 'POST', '/api/v1/balance/charges', headers, { amount: VIP_PRICE })).status).toBe(
    200,
  );
  const paid = await json<{ paymentId: string }>(base, 'POST', '/api/v1/payments', headers, {
    reservationId: held.body.reservationId,
  });
  expect(paid.status, paid.text).toBe(201);
  return { ...buyer, paymentId: paid.body.paymentId };
}

async function demoDates(base: string): Promise<string[]> {
  const concerts = (await json<{ concertId: string; dates: string[] }[]>(base, 'GET', '/api/v1/concerts'))
    .body;
  return concerts.find((c) => c.concertId === DEMO_CONCERT_ID)!.dates;
}

/** The app acting as `buyer` from its first load (the identity the app keeps in localStorage). */
async function signInAs(page: Page, buyer: Buyer): Promise<void> {
  await page.addInitScript((user) => {
    (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem(
      'boxoffice.user',
      JSON.stringify(user),
    );
  }, buyer);
}

// ---------------------------------------------------------------------------------------------

describe.skipIf(!hasChromium)('after the sale in a real browser', () => {
  const stack = useStack({ GATE_KEY, HOLD_TTL_SECONDS: '120' });

  it('When a buyer returns a ticket from the receipt, then the fee is shown first, the balance comes back and the seat is free', async () => {
    const { context, page } = await newVisitor(stack.browser(), stack.server().url, PHONE);
    try {
      await openConcert(page);
      await createMe(page, 'returner');
      await joinLine(page);
      await waitUntilActive(page);
      const date = await openDate(page, 0);
      await seat(page, 7).click();
      await page.getByRole('button', { name: ko['seats.hold'] }).click();
      await onCheckout(page);
      await page.getByLabel(ko['balance.amount']).fill(String(VIP_PRICE));
      await page.getByRole('button', { name: ko['balance.topUp'], exact: true }).click();
      await expect.poll(() => page.getByTestId('balance').textContent()).toBe(won(VIP_PRICE));
      await page.getByRole('button', { name: ko['checkout.pay'].replace('{price}', won(VIP_PRICE)) }).click();
      await page.getByTestId('receipt').waitFor();

      // The terms before confirming: 10 % fee, what comes back, and when returns close.
      await page.getByRole('button', { name: ko['refund.open'] }).click();
      const terms = page.getByTestId('refund-terms');
      await terms.waitFor();
      expect(await page.getByTestId('refund-fee').textContent()).toBe(won(16_500));
      expect(await page.getByTestId('refund-back').textContent()).toBe(won(148_500));
      expect(await terms.textContent()).toContain(ko['refund.cutoff']);
      await shot(page, 'after-sale-01-refund-terms-phone');

      await page
        .getByRole('button', { name: ko['refund.confirm'].replace('{amount}', won(148_500)) })
        .click();
      await page.getByTestId('refund-done').waitFor();
      expect(await page.getByTestId('refund-done').textContent()).toContain(won(148_500));
      await page.getByTestId('receipt-refunded').waitFor();
      expect(await page.getByRole('button', { name: ko['refund.open'] }).count()).toBe(0);
      publish(await shot(page, 'after-sale-02-refunded-phone'), 'refund-receipt-phone.png');

      // My tickets: the balance is back (less the fee), the payment refunded, its ticket void.
      await page.getByRole('link', { name: ko['action.myTickets'] }).click();
      await expect.poll(() => page.getByTestId('balance').textContent()).toBe(won(148_500));
      await page.locator('[data-testid="payments"] li[data-status="REFUNDED"]').waitFor();
      await page.locator('[data-testid="tickets"] li[data-status="VOID"]').waitFor();
      await shot(page, 'after-sale-03-my-tickets-void-phone');

      // The seat is free again: the next buyer in line sees it AVAILABLE.
      const base = stack.server().url;
      const next = await admitted(base);
      const map = await json<{ seats: { seatNumber: number; status: string }[] }>(
        base,
        'GET',
        `/api/v1/concerts/${DEMO_CONCERT_ID}/dates/${date}/seats?section=VIP`,
        { Authorization: `Bearer ${next.buyer.accessToken}`, 'Queue-Token': next.queueToken },
      );
      expect(map.status, map.text).toBe(200);
      expect(map.body.seats.find((s) => s.seatNumber === 7)?.status).toBe('AVAILABLE');
      expect(pageProblems(page)).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('When a ticket is scanned at the gate twice, then it is admitted once (green) and refused the second time (red, already used)', async () => {
    const base = stack.server().url;
    const [, date] = await demoDates(base);
    const buyer = await paidBuyer(base, date!, 5);
    const holder = await newVisitor(stack.browser(), base, PHONE);
    const gate = await newVisitor(stack.browser(), base, LAPTOP);
    try {
      // The buyer's ticket as a QR code, drawn in the browser.
      await signInAs(holder.page, buyer);
      await holder.page.goto('/#/me');
      const ticket = holder.page.locator('[data-testid="tickets"] li[data-status="VALID"]');
      await ticket.locator('.qr svg').waitFor();
      const code = (await ticket.locator('.qr').getAttribute('data-code')) ?? '';
      expect(code.split('.')).toHaveLength(3);
      publish(await shot(holder.page, 'after-sale-04-ticket-qr-phone'), 'ticket-qr-phone.png');

      // Offline, the saved tickets still show (the list is kept in localStorage).
      await holder.context.setOffline(true);
      await holder.page.goto('/#/');
      await holder.page.goto('/#/me');
      await holder.page.getByTestId('tickets-offline').waitFor();
      expect(await holder.page.locator('[data-testid="tickets"] .qr svg').count()).toBe(1);
      await holder.context.setOffline(false);

      // The gate asks for its key once, then takes codes typed by a wedge scanner (code + Enter).
      await gate.page.goto('/#/gate');
      await gate.page.getByLabel(ko['gate.key']).fill(GATE_KEY);
      await gate.page.getByRole('button', { name: ko['gate.signIn'] }).click();
      const field = gate.page.getByLabel(ko['gate.code']);
      await field.waitFor();
      await field.pressSequentially(code, { delay: 0 });
      await field.press('Enter');
      const verdict = gate.page.getByTestId('gate-verdict');
      // One wait for the colour and the words together: the answer clears itself after a few seconds.
      await verdict
        .locator('[data-verdict="OK"]', { hasText: ko['gate.ok'].replace('{seat}', 'VIP구역 · 1열 · 5번') })
        .waitFor();
      expect(await field.inputValue()).toBe('');
      publish(await shot(gate.page, 'after-sale-05-gate-ok-laptop'), 'gate-ok.png');

      await field.fill(code);
      await field.press('Enter');
      await verdict.locator('[data-verdict="TICKET_ALREADY_USED"]', { hasText: ko['gate.no'] }).waitFor();
      await shot(gate.page, 'after-sale-06-gate-used-laptop');

      // A code one character of its signature off is invalid (a character surely different).
      const off = code.at(-2) === 'A' ? 'B' : 'A';
      await field.fill(`${code.slice(0, -2)}${off}${code.slice(-1)}`);
      await field.press('Enter');
      await verdict.locator('[data-verdict="TICKET_CODE_INVALID"]').waitFor();
      await gate.page.setViewportSize(PHONE);
      await shot(gate.page, 'after-sale-07-gate-invalid-phone');

      // The buyer's ticket now reads USED.
      await holder.page.reload();
      await holder.page.locator('[data-testid="tickets"] li[data-status="USED"]').waitFor();
      await shot(holder.page, 'after-sale-08-ticket-used-phone');
      // A payment whose ticket entered cannot be returned: the button stays, disabled, with the reason.
      const payment = holder.page.locator(
        `[data-testid="payments"] li[data-payment-id="${buyer.paymentId}"]`,
      );
      await payment.getByText(ko['refund.closedUsed']).waitFor();
      expect(await payment.getByRole('button', { name: ko['refund.open'] }).isDisabled()).toBe(true);
      // The same page on a laptop, in English: the used ticket is marked in words too.
      await holder.page.setViewportSize(LAPTOP);
      await holder.page.getByRole('button', { name: ko['lang.switchLabel'] }).click();
      await holder.page.getByRole('heading', { level: 2, name: en['tickets.title'] }).waitFor();
      expect(
        await holder.page.locator('[data-testid="tickets"] li[data-status="USED"]').textContent(),
      ).toContain(en['tickets.status.USED']);
      await shot(holder.page, 'after-sale-08b-ticket-used-laptop-en');
      expect(pageProblems(gate.page)).toEqual([]);
    } finally {
      await holder.context.close();
      await gate.context.close();
    }
  }, 120_000);

  it('When the operator types the date to confirm a cancellation, then the console follows the refunds to CANCELLED', async () => {
    const base = stack.server().url;
    const dates = await demoDates(base);
    const date = dates[dates.length - 1]!;
    const buyer = await paidBuyer(base, date, 9);
    const { context, page } = await newVisitor(stack.browser(), base, LAPTOP);
    try {
      await page.goto('/#/admin');
      await page.getByLabel(ko['admin.key']).fill(ADMIN_KEY);
      await page.getByRole('button', { name: ko['admin.signIn'] }).click();
      const hall = page.locator(`section.console[data-concert-id="${DEMO_CONCERT_ID}"]`);
      // The console links to the gate screen (for stewards' devices).
      await page.getByRole('link', { name: ko['gate.open'] }).waitFor();
      await shot(page, 'after-sale-09a-console-top-laptop');
      await page.setViewportSize(PHONE);
      await shot(page, 'after-sale-09b-console-top-phone');
      await page.setViewportSize(LAPTOP);
      const cancel = hall.getByTestId('cancel-date');
      await cancel.getByLabel(ko['cancel.date']).selectOption(date);
      const submit = cancel.getByRole('button', { name: ko['cancel.submit'] });
      // Typing another date does not arm the button; typing this one does.
      await cancel.getByLabel(ko['cancel.typeToConfirm'].replace('{date}', date)).fill('2000-01-01');
      expect(await submit.isDisabled()).toBe(true);
      await cancel.getByLabel(ko['cancel.typeToConfirm'].replace('{date}', date)).fill(date);
      await shot(page, 'after-sale-09-cancel-typed-laptop');
      await submit.click();

      const progress = cancel.locator(`[data-testid="cancel-progress"][data-date="${date}"]`);
      await expect.poll(() => progress.getAttribute('data-status'), { timeout: 30_000 }).toBe('CANCELLED');
      expect(await progress.textContent()).toContain(ko['cancel.done'].replace('{payments}', '1'));
      publish(await shot(page, 'after-sale-10-cancelled-laptop'), 'cancel-date.png');
      // Failed webhooks are listed on the console (none here: this server sends none).
      const webhooks = page.getByTestId('failed-webhooks');
      await webhooks.getByText(ko['webhooks.none']).waitFor();

      // An event is given up only after 24 h of retries, so the list is stubbed here (the real
      // list and retry are walked in test/e2e/after-the-sale.test.ts): each row has its button,
      // which POSTs …/webhooks/{id}/retry.
      const failedId = '11111111-2222-4333-8444-555555555555';
      const event = {
        id: failedId,
        type: 'payment.succeeded',
        createdAt: new Date(Date.now() - 25 * 3_600_000).toISOString(),
        data: {},
        status: 'failed',
        attempts: 30,
        nextAttemptAt: null,
        lastAttemptAt: new Date().toISOString(),
        lastError: 'HTTP 500',
        deliveredAt: null,
      };
      const retried: string[] = [];
      await page.route('**/api/v1/admin/webhooks?status=failed', (route) =>
        route.fulfill({ json: { events: [event], nextCursor: null } }),
      );
      await page.route(`**/api/v1/admin/webhooks/${failedId}/retry`, (route) => {
        retried.push(route.request().method());
        return route.fulfill({
          json: { ...event, status: 'pending', nextAttemptAt: new Date().toISOString() },
        });
      });
      await page.reload();
      const row = page.locator(`[data-testid="failed-webhooks"] tr[data-event-id="${failedId}"]`);
      await row.waitFor();
      await row.scrollIntoViewIfNeeded();
      await shot(page, 'after-sale-11-failed-webhooks-laptop');
      await row.getByRole('button', { name: ko['webhooks.retry'] }).click();
      await row.getByText(ko['webhooks.retried']).waitFor();
      expect(retried).toEqual(['POST']);

      // Refunded in full, and the date has left the list.
      const balance = await json<{ balance: number }>(base, 'GET', '/api/v1/balance', {
        Authorization: `Bearer ${buyer.accessToken}`,
      });
      expect(balance.body.balance).toBe(VIP_PRICE);
      expect(await demoDates(base)).not.toContain(date);
      expect(pageProblems(page)).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});
