import { describe, expect, it } from 'vitest';
import { eventually, hasChromium, LAPTOP, newVisitor, PHONE, shot, useStack } from './harness.js';
import { alert, enterSeatMap, ko, onCheckout, seat, selectAndHold } from './steps.js';

const CONTESTED = 7;
const SECOND_CHOICE = 8;

describe.skipIf(!hasChromium)('two buyers race for one seat', () => {
  const stack = useStack({ HOLD_TTL_SECONDS: '120' });

  it('When two buyers press "hold" on the same seat at once, then one holds it and the other is told it is taken and picks another', async () => {
    const a = await newVisitor(stack.browser(), stack.server().url, LAPTOP);
    const b = await newVisitor(stack.browser(), stack.server().url, PHONE);
    try {
      await Promise.all([enterSeatMap(a.page, 'racer A'), enterSeatMap(b.page, 'racer B')]);
      // Both see the seat free and select it, then both press "hold" together.
      await Promise.all([seat(a.page, CONTESTED).click(), seat(b.page, CONTESTED).click()]);
      await shot(a.page, 'race-a-01-selected');
      await Promise.all([
        a.page.getByRole('button', { name: ko['seats.hold'] }).click(),
        b.page.getByRole('button', { name: ko['seats.hold'] }).click(),
      ]);

      // Exactly one reaches checkout; the other gets SEAT_UNAVAILABLE in words.
      const outcome = (page: typeof a.page) =>
        eventually(
          async () => {
            if (/\/holds\//.test(page.url())) return 'held' as const;
            if ((await alert(page, 'SEAT_UNAVAILABLE').count()) > 0) return 'taken' as const;
            return null;
          },
          { timeoutMs: 15_000 },
        );
      const [outcomeA, outcomeB] = await Promise.all([outcome(a.page), outcome(b.page)]);
      expect([outcomeA, outcomeB].sort()).toEqual(['held', 'taken']);
      const winner = outcomeA === 'held' ? a : b;
      const loser = outcomeA === 'held' ? b : a;
      await shot(winner.page, 'race-winner-02-holding');

      const told = alert(loser.page, 'SEAT_UNAVAILABLE');
      expect(await told.textContent()).toContain(ko['error.SEAT_UNAVAILABLE']);
      // The loser's map is refreshed at once: the seat shows as held and is no longer selectable.
      await expect.poll(() => seat(loser.page, CONTESTED).getAttribute('data-status')).toBe('HELD');
      await expect.poll(() => seat(loser.page, CONTESTED).getAttribute('aria-disabled')).toBe('true');
      expect(await seat(loser.page, CONTESTED).getAttribute('aria-label')).toContain('선점됨');
      await shot(loser.page, 'race-loser-02-told-taken');

      // Pressing the taken seat does nothing; picking another one works.
      await seat(loser.page, CONTESTED).click({ force: true });
      expect(await loser.page.getByRole('button', { name: ko['seats.hold'] }).isDisabled()).toBe(true);
      await selectAndHold(loser.page, SECOND_CHOICE);
      await onCheckout(loser.page);
      await expect
        .poll(() => loser.page.getByTestId('checkout-seats').textContent())
        .toContain(`VIP구역 · 1열 · ${SECOND_CHOICE}번`);
      await shot(loser.page, 'race-loser-03-holding-another');

      // The winner lets the seat go: back on the map, it is free again.
      await winner.page.getByRole('button', { name: ko['checkout.cancel'] }).click();
      await seat(winner.page, CONTESTED).waitFor();
      await expect.poll(() => seat(winner.page, CONTESTED).getAttribute('data-status')).toBe('AVAILABLE');
      await shot(winner.page, 'race-winner-03-cancelled');
    } finally {
      await a.context.close();
      await b.context.close();
    }
  }, 90_000);
});
