import { describe, expect, it } from 'vitest';
import { hasChromium, LAPTOP, newVisitor, PHONE, pageProblems, publish, shot, useStack } from './harness.js';
import {
  alert,
  createMe,
  en,
  joinLine,
  ko,
  onCheckout,
  openConcert,
  openDate,
  seat,
  seats,
  waitUntilActive,
} from './steps.js';

const PRICE = '165,000원';

describe.skipIf(!hasChromium)('the buyer journey in a real browser', () => {
  const stack = useStack({ HOLD_TTL_SECONDS: '120' });

  const viewports = [
    { name: 'phone', viewport: PHONE, dateIndex: 0 },
    { name: 'laptop', viewport: LAPTOP, dateIndex: 1 },
  ];

  for (const { name, viewport, dateIndex } of viewports) {
    it(`When a buyer on a ${name} goes from concert to receipt, then every step works without a reload`, async () => {
      const { context, page } = await newVisitor(stack.browser(), stack.server().url, viewport);
      const step = (label: string) => shot(page, `journey-${name}-${label}`);
      try {
        // 1. Pick a concert.
        await page.goto('/');
        await page.getByRole('heading', { level: 1, name: ko['concerts.title'] }).waitFor();
        expect(await page.locator('html').getAttribute('lang')).toBe('ko');
        await step('01-concerts');
        await openConcert(page);

        // 2. Create me, 3. join the line and be let in (the line is short here).
        await createMe(page, `${name} buyer`);
        await step('02-created');
        await joinLine(page);
        await waitUntilActive(page);
        await page.getByRole('timer').first().waitFor();
        await step('03-active');

        // 4. Dates with seats left, 5. the seat map of a show.
        const date = await openDate(page, dateIndex);
        expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        // The demo hall's first section: its VIP row of ten seats.
        await expect.poll(() => seats(page).count()).toBe(10);
        expect(await seat(page, 1).getAttribute('aria-label')).toBe(`1번 좌석, ${PRICE}, 선택 가능`);

        // The map works by keyboard: focus seat 1, arrow right to seat 2, Enter selects it.
        await seat(page, 1).focus();
        await page.keyboard.press('ArrowRight');
        expect(
          await page.evaluate(
            () =>
              (globalThis as { document?: { activeElement?: { dataset?: { seat?: string } } } }).document
                ?.activeElement?.dataset?.seat,
          ),
        ).toBe('2');
        await page.keyboard.press('Enter');
        await expect.poll(() => seat(page, 2).getAttribute('aria-pressed')).toBe('true');
        expect(await seat(page, 2).getAttribute('aria-label')).toBe(`2번 좌석, ${PRICE}, 선택 가능, 선택됨`);
        await expect.poll(() => page.getByTestId('selection').textContent()).toContain(PRICE);

        // Korean first, English on request: the same seat reads in English, then back.
        await page.getByRole('button', { name: ko['lang.switchLabel'] }).click();
        await expect.poll(() => seat(page, 1).getAttribute('aria-label')).toBe('Seat 1, ₩165,000, available');
        await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('en');
        await step('04-seat-map-english');
        await page.getByRole('button', { name: en['lang.switchLabel'] }).click();
        await expect
          .poll(() => seat(page, 1).getAttribute('aria-label'))
          .toBe(`1번 좌석, ${PRICE}, 선택 가능`);

        // The layout fits the viewport: nothing scrolls sideways.
        const overflow = await page.evaluate(() => {
          const doc = (
            globalThis as unknown as {
              document: { documentElement: { scrollWidth: number; clientWidth: number } };
            }
          ).document.documentElement;
          return doc.scrollWidth - doc.clientWidth;
        });
        expect(overflow).toBeLessThanOrEqual(0);
        const mapShot = await step('05-seat-map');
        if (name === 'laptop') publish(mapShot, 'seat-map.png');

        // 6. Hold the seat: a countdown to the end of the hold.
        await page.getByRole('button', { name: ko['seats.hold'] }).click();
        await onCheckout(page);
        await page.getByText(ko['checkout.holdEndsIn']).waitFor();
        await step('06-hold');

        // Paying with an empty balance: told so in words, with the top-up prefilled.
        await page.getByRole('button', { name: ko['checkout.pay'].replace('{price}', PRICE) }).click();
        await alert(page, 'INSUFFICIENT_BALANCE').waitFor();
        expect(await alert(page, 'INSUFFICIENT_BALANCE').textContent()).toContain(
          ko['error.INSUFFICIENT_BALANCE'],
        );
        await expect.poll(() => page.getByLabel(ko['balance.amount']).inputValue()).toBe('165000');
        await step('07-insufficient-balance');

        // 7. Top up (the "top up" way forward focuses the amount), see the balance.
        await alert(page, 'INSUFFICIENT_BALANCE').getByRole('button', { name: ko['action.topUp'] }).click();
        await page.getByRole('button', { name: ko['balance.topUp'], exact: true }).click();
        await expect.poll(() => page.getByTestId('balance').textContent()).toBe(PRICE);
        await step('08-topped-up');

        // 8. Pay, 9. the receipt.
        await page.getByRole('button', { name: ko['checkout.pay'].replace('{price}', PRICE) }).click();
        await page.getByTestId('receipt').waitFor();
        expect(await page.getByTestId('receipt-amount').textContent()).toBe(PRICE);
        expect(await page.getByTestId('receipt-seats').textContent()).toContain('VIP구역 · 1열 · 2번');
        await step('09-receipt');

        // 10. My reservations and payments.
        await page.getByRole('link', { name: ko['action.myTickets'] }).click();
        await page.getByRole('heading', { level: 1, name: ko['me.title'] }).waitFor();
        await expect
          .poll(() => page.locator('[data-testid="reservations"] li[data-status="CONFIRMED"]').count())
          .toBe(1);
        await expect.poll(() => page.locator('[data-testid="payments"] li').count()).toBe(1);
        await expect.poll(() => page.getByTestId('balance').textContent()).toBe('0원');
        await step('10-my-tickets');

        expect(pageProblems(page)).toEqual([]);
      } finally {
        await context.close();
      }
    }, 90_000);
  }
});
