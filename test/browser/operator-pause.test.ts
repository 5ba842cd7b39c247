import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DEMO_CONCERT_ID } from '../../src/concerts/demo-seed.js';
import {
  ADMIN_KEY,
  hasChromium,
  LAPTOP,
  newVisitor,
  PHONE,
  publish,
  shot,
  sleep,
  useStack,
} from './harness.js';
import { createMe, joinLine, ko, openConcert, queueCard, shownPosition, waitUntilActive } from './steps.js';

/** How long a paused line is watched to see that nobody moves. */
const STILL_FOR_MS = 3_000;

/** The demo hall's console: the demo also seeds an arena, whose console has the same controls. */
const hall = (page: Page) => page.locator(`section.console[data-concert-id="${DEMO_CONCERT_ID}"]`);
const stat = (page: Page, name: string) => hall(page).locator(`[data-stat="${name}"] dd`);

describe.skipIf(!hasChromium)('the operator pauses and resumes the line', () => {
  const stack = useStack({ QUEUE_MAX_ACTIVE: '1', QUEUE_ADMIT_PER_SECOND: '5' });

  it('When the operator pauses the line, then a waiting buyer stops moving; on resume the buyer gets in', async () => {
    const operator = await newVisitor(stack.browser(), stack.server().url, LAPTOP);
    const first = await newVisitor(stack.browser(), stack.server().url, PHONE);
    const second = await newVisitor(stack.browser(), stack.server().url, PHONE);
    const third = await newVisitor(stack.browser(), stack.server().url, LAPTOP);
    // The second buyer's event stream is refused (as by a proxy that buffers SSE): the waiting
    // room must fall back to polling and still move on by itself.
    await second.context.route('**/api/v1/queue/events**', (route) => route.abort());
    try {
      // The console asks for the key, then shows the demo concert's line live.
      await operator.page.goto('/#/admin');
      await operator.page.getByLabel(ko['admin.key']).fill(ADMIN_KEY);
      await operator.page.getByRole('button', { name: ko['admin.signIn'] }).click();
      await stat(operator.page, 'waiting').waitFor();
      await stat(operator.page, 'admit-rate').waitFor();

      // The first buyer takes the only active slot.
      await openConcert(first.page);
      await createMe(first.page, 'first');
      await joinLine(first.page);
      await waitUntilActive(first.page);
      await expect.poll(() => stat(operator.page, 'active').textContent()).toBe('1 / 1');

      // Pause.
      await hall(operator.page).getByRole('button', { name: ko['admin.pause'] }).click();
      await expect
        .poll(() => hall(operator.page).getByTestId('line-state').textContent())
        .toBe(ko['admin.paused']);

      // Two more buyers line up behind: positions 1 and 2, live.
      for (const [visitor, name] of [
        [second, 'second'],
        [third, 'third'],
      ] as const) {
        await openConcert(visitor.page);
        await createMe(visitor.page, name);
        await joinLine(visitor.page);
      }
      await expect.poll(() => shownPosition(second.page)).toBe(1);
      await expect.poll(() => shownPosition(third.page)).toBe(2);
      await expect.poll(() => second.page.locator('.live-mode').getAttribute('data-mode')).toBe('polling');
      await expect.poll(() => third.page.locator('.live-mode').getAttribute('data-mode')).toBe('stream');
      await expect.poll(() => stat(operator.page, 'waiting').textContent()).toBe('2');
      const waitingRoom = await shot(third.page, 'operator-01-third-buyer-waiting');
      publish(waitingRoom, 'waiting-room.png');
      await shot(operator.page, 'operator-02-console-paused');

      // The first buyer gives the slot back; the line is paused, so nobody moves up.
      await first.page.getByRole('button', { name: ko['queue.giveUp'] }).click();
      await first.page.getByRole('button', { name: ko['queue.join'] }).waitFor();
      await expect.poll(() => stat(operator.page, 'active').textContent()).toBe('0 / 1');
      const until = Date.now() + STILL_FOR_MS;
      while (Date.now() < until) {
        expect(await queueCard(second.page).getAttribute('data-queue-state')).toBe('WAITING');
        expect(await shownPosition(second.page)).toBe(1);
        expect(await shownPosition(third.page)).toBe(2);
        await sleep(250);
      }
      expect(await stat(operator.page, 'waiting').textContent()).toBe('2');
      await shot(second.page, 'operator-03-second-buyer-still-waiting');

      // Resume: the second buyer is let in, the third moves up, with no reload.
      await hall(operator.page).getByRole('button', { name: ko['admin.resume'] }).click();
      await expect
        .poll(() => hall(operator.page).getByTestId('line-state').textContent())
        .toBe(ko['admin.running']);
      await waitUntilActive(second.page, 10_000);
      await expect.poll(() => shownPosition(third.page)).toBe(1);
      await shot(second.page, 'operator-04-second-buyer-in');

      // Raising max active to 2 lets the third buyer in as well.
      await hall(operator.page).getByLabel(ko['admin.maxActive']).fill('2');
      await hall(operator.page).getByRole('button', { name: ko['admin.save'] }).click();
      await operator.page.getByText(ko['admin.saved']).waitFor();
      await waitUntilActive(third.page, 10_000);
      await expect.poll(() => stat(operator.page, 'active').textContent()).toBe('2 / 2');
      await expect.poll(() => stat(operator.page, 'waiting').textContent()).toBe('0');
      await shot(operator.page, 'operator-05-console-resumed');

      // A new concert: one date, 20 seats at 99,000 won; its console appears at once.
      await operator.page.getByLabel(ko['admin.concertTitle'], { exact: true }).fill('Browser Test Night');
      await operator.page.getByLabel(ko['admin.venue'], { exact: true }).fill('Test Hall');
      await operator.page.getByLabel(ko['admin.seats'], { exact: true }).fill('20');
      await operator.page.getByLabel(ko['admin.price'], { exact: true }).fill('99000');
      await operator.page.getByRole('button', { name: ko['admin.create'], exact: true }).click();
      await operator.page.getByText(ko['admin.created'].replace('{title}', 'Browser Test Night')).waitFor();
      await operator.page.getByRole('heading', { level: 2, name: 'Browser Test Night' }).waitFor();
      const listed = (await (await fetch(`${stack.server().url}/api/v1/concerts`)).json()) as {
        title: string;
        dates: string[];
      }[];
      expect(listed.find((c) => c.title === 'Browser Test Night')?.dates).toHaveLength(1);
      await shot(operator.page, 'operator-06-concert-created');
    } finally {
      for (const visitor of [operator, first, second, third]) await visitor.context.close();
    }
  }, 90_000);
});
