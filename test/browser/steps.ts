// A buyer's steps in the web app, in the words a buyer sees (the app's own Korean dictionary).
import type { Locator, Page } from 'playwright-core';
import { DEMO_CONCERT_ID } from '../../src/concerts/demo-seed.js';
import { messages } from '../../web/src/i18n/messages.js';

export const ko = messages.ko;
export const en = messages.en;

/** The seat (a button drawn in the SVG map) of `seatNumber` on an open seat map. */
export const seat = (page: Page, seatNumber: number): Locator =>
  page.locator(`.seat-map [data-seat="${seatNumber}"]`);

/** Every seat drawn on the open seat map. */
export const seats = (page: Page): Locator => page.locator('.seat-map [data-seat]');

export const alert = (page: Page, code: string): Locator =>
  page.locator(`[role="alert"][data-code="${code}"]`);

export const queueCard = (page: Page): Locator => page.locator('section.queue');

/** From the concert list to the waiting room of the demo hall (the seeds' 50 seats). */
export async function openConcert(page: Page): Promise<void> {
  await page.goto('/');
  await page.locator(`.concert-card a.button[href$="${DEMO_CONCERT_ID}"]`).click();
}

/** "Create me" with a name. */
export async function createMe(page: Page, name: string): Promise<void> {
  await page.getByLabel(ko['user.name']).fill(name);
  await page.getByRole('button', { name: ko['user.create'] }).click();
  await page.getByRole('button', { name: ko['queue.join'] }).waitFor();
}

export async function joinLine(page: Page): Promise<void> {
  await page.getByRole('button', { name: ko['queue.join'] }).click();
  await page.locator('section.queue:is([data-queue-state="WAITING"], [data-queue-state="ACTIVE"])').waitFor();
}

export async function waitUntilActive(page: Page, timeout = 15_000): Promise<void> {
  await page.locator('section.queue[data-queue-state="ACTIVE"]').waitFor({ timeout });
}

/** The position the waiting room shows, or null when it shows none (not waiting). */
export async function shownPosition(page: Page): Promise<number | null> {
  const position = page.getByTestId('queue-position');
  if ((await position.count()) === 0) return null;
  const value = await position.getAttribute('data-position');
  return value ? Number(value) : null;
}

/**
 * Pick the `index`-th date with seats left; returns its `YYYY-MM-DD`. A show of several sections
 * opens on the venue overview: the first section (the demo hall's VIP row, seats 1–10) is taken.
 */
export async function openDate(page: Page, index: number): Promise<string> {
  const link = page.locator('a.date-link').nth(index);
  const date = (await link.getAttribute('data-date')) ?? '';
  await link.click();
  const firstSection = page.locator('a.section-tile').first();
  await seat(page, 1).or(firstSection).first().waitFor();
  if ((await firstSection.count()) > 0) await firstSection.click();
  await seat(page, 1).waitFor();
  return date;
}

/** A concert's waiting room by its id (a test's own concert, not the demo's). */
export async function openConcertById(page: Page, concertId: string): Promise<void> {
  await page.goto(`/#/concerts/${concertId}`);
}

/** Create me → join → wait to be let in → open a date's seat map. */
export async function enterSeatMap(page: Page, name: string, dateIndex = 0): Promise<string> {
  await openConcert(page);
  await createMe(page, name);
  await joinLine(page);
  await waitUntilActive(page);
  return openDate(page, dateIndex);
}

/** Select a seat and press "hold" (does not wait for the outcome). */
export async function selectAndHold(page: Page, seatNumber: number): Promise<void> {
  await seat(page, seatNumber).click();
  await page.getByRole('button', { name: ko['seats.hold'] }).click();
}

export async function onCheckout(page: Page): Promise<void> {
  await page.waitForURL(/#\/concerts\/[^/]+\/holds\/[^/]+$/);
  await page.getByRole('heading', { level: 1, name: ko['checkout.title'] }).waitFor();
}
