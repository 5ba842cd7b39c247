import { describe, expect, it } from 'vitest';
import { hasChromium, LAPTOP, newVisitor, PHONE, shot, useStack } from './harness.js';
import { enterSeatMap, ko, onCheckout, seat, selectAndHold } from './steps.js';

const HOLD_TTL_SECONDS = 4;
const SEAT = 3;

describe.skipIf(!hasChromium)('a hold that lapses', () => {
  const stack = useStack({ HOLD_TTL_SECONDS: String(HOLD_TTL_SECONDS) });

  it('When a buyer lets the hold countdown run out, then the screen says so and the seat is free again for everyone', async () => {
    const holder = await newVisitor(stack.browser(), stack.server().url, PHONE);
    const watcher = await newVisitor(stack.browser(), stack.server().url, LAPTOP);
    try {
      await enterSeatMap(holder.page, 'slow buyer');
      await enterSeatMap(watcher.page, 'watcher');

      await selectAndHold(holder.page, SEAT);
      await onCheckout(holder.page);
      await holder.page.getByText(ko['checkout.holdEndsIn']).waitFor();
      await shot(holder.page, 'lapse-01-holding');

      // Another buyer's open map shows the seat held, without a reload.
      await expect
        .poll(() => seat(watcher.page, SEAT).getAttribute('data-status'), { timeout: 10_000 })
        .toBe('HELD');
      await shot(watcher.page, 'lapse-02-watcher-sees-held');

      // The countdown reaches zero: the lapse is announced with the way back to the map.
      const lapsed = holder.page.getByTestId('hold-lapsed');
      await lapsed.waitFor({ timeout: (HOLD_TTL_SECONDS + 6) * 1000 });
      expect(await lapsed.getAttribute('role')).toBe('alert');
      expect(await lapsed.textContent()).toContain(ko['checkout.lapsed']);
      expect(await holder.page.getByRole('button', { name: /결제하기$/ }).count()).toBe(0);
      await shot(holder.page, 'lapse-03-lapsed');

      // The watcher's map frees the seat by itself; the holder goes back and sees it free too.
      await expect
        .poll(() => seat(watcher.page, SEAT).getAttribute('data-status'), { timeout: 10_000 })
        .toBe('AVAILABLE');
      await shot(watcher.page, 'lapse-04-watcher-sees-free');
      await lapsed.getByRole('button', { name: ko['action.backToMap'] }).click();
      await seat(holder.page, SEAT).waitFor();
      await expect.poll(() => seat(holder.page, SEAT).getAttribute('data-status')).toBe('AVAILABLE');
      await shot(holder.page, 'lapse-05-back-on-map');
    } finally {
      await holder.context.close();
      await watcher.context.close();
    }
  }, 90_000);
});
