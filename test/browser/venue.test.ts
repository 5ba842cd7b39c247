import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { addDays, todayUtc } from '../../src/concerts/dates.js';
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
  alert,
  createMe,
  joinLine,
  ko,
  onCheckout,
  openConcertById,
  seat,
  seats,
  waitUntilActive,
} from './steps.js';

// A real arena: 10 sections × 40 rows × 50 seats = 20,000 seats per show, in three grades.
const ROWS = 40;
const PER_ROW = 50;
const PER_SECTION = ROWS * PER_ROW;
const PLAN = [
  { section: 'A', grade: 'VIP', price: 220_000 },
  { section: 'B', grade: 'VIP', price: 220_000 },
  { section: 'C', grade: 'R', price: 165_000 },
  { section: 'D', grade: 'R', price: 165_000 },
  { section: 'E', grade: 'R', price: 165_000 },
  { section: 'F', grade: 'S', price: 132_000 },
  { section: 'G', grade: 'S', price: 132_000 },
  { section: 'H', grade: 'S', price: 132_000 },
  { section: 'I', grade: 'S', price: 132_000 },
  { section: 'J', grade: 'S', price: 132_000 },
];
const won = (amount: number) => `${amount.toLocaleString('en-US')}원`;
/** The seat number of a place, as API.md numbers seats: section by section, row by row. */
const seatNumberOf = (section: string, row: number, number: number) =>
  PLAN.findIndex((s) => s.section === section) * PER_SECTION + (row - 1) * PER_ROW + number;

/** The buyer's way in: a new buyer in line for this concert, let in, on the date's venue overview. */
async function enterVenue(page: Page, concertId: string, name: string): Promise<void> {
  await openConcertById(page, concertId);
  await createMe(page, name);
  await joinLine(page);
  await waitUntilActive(page);
  await page.locator('a.date-link').first().click();
  await expect.poll(() => page.locator('[data-testid="sections"] a.section-tile').count()).toBe(PLAN.length);
}

/**
 * Pay for `count` held seats of `total` won in one payment: the first try finds the new buyer's
 * balance short, the top-up (prefilled with the shortfall) fills it, the second try pays.
 */
async function topUpAndPay(page: Page, count: number, total: number): Promise<void> {
  const pay = ko['checkout.payAll'].replace('{count}', String(count)).replace('{price}', won(total));
  await page.getByRole('button', { name: pay }).click();
  await alert(page, 'INSUFFICIENT_BALANCE').getByRole('button', { name: ko['action.topUp'] }).click();
  await page.getByRole('button', { name: ko['balance.topUp'], exact: true }).click();
  await expect.poll(() => page.getByTestId('balance').textContent()).toBe(won(total));
  await page.getByRole('button', { name: pay }).click();
  await page.getByTestId('receipt').waitFor();
}

const sideways = (page: Page) =>
  page.evaluate(() => {
    const doc = (
      globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }
    ).document.documentElement;
    return doc.scrollWidth - doc.clientWidth;
  });

describe.skipIf(!hasChromium)('a 20,000-seat arena in a real browser', () => {
  const stack = useStack({ HOLD_TTL_SECONDS: '120' });
  let concertId = '';

  beforeAll(async () => {
    const response = await fetch(`${stack.server().url}/api/v1/admin/concerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'admin-key': ADMIN_KEY },
      body: JSON.stringify({
        title: 'Arena Night',
        venue: 'KSPO Dome',
        seating: PLAN.map((s) => ({ ...s, rows: Array.from({ length: ROWS }, () => PER_ROW) })),
        dates: [{ date: addDays(todayUtc(Date.now()), 30) }],
      }),
    });
    const body = (await response.json()) as { concertId: string; totalSeats: number };
    expect(response.status).toBe(201);
    expect(body.totalSeats).toBe(PLAN.length * PER_SECTION);
    concertId = body.concertId;
  }, 60_000);

  it('When a buyer on a phone picks a section on the venue overview and taps two seats on its 2,000-seat map, then both are held in one go and paid in one payment', async () => {
    const { context, page } = await newVisitor(stack.browser(), stack.server().url, PHONE);
    try {
      await enterVenue(page, concertId, 'arena phone buyer');
      // The overview: each section with its grade, price and seats left.
      const tileC = page.locator('a.section-tile[data-section="C"]');
      expect(await tileC.getAttribute('aria-label')).toBe(
        `C구역, R석, ${won(165_000)}, 남은 좌석 ${PER_SECTION}/${PER_SECTION}`,
      );
      expect(await sideways(page)).toBeLessThanOrEqual(0);
      publish(await shot(page, 'arena-01-venue-phone'), 'venue-overview-phone.png');

      // Section C's map: 40 rows × 50 seats, opened at a size a finger can tap; the page itself
      // never scrolls sideways (the map scrolls inside itself).
      await tileC.click();
      const first = seatNumberOf('C', 5, 25);
      await seat(page, first).waitFor();
      await expect.poll(() => seats(page).count()).toBe(PER_SECTION);
      expect(await seat(page, first).getAttribute('aria-label')).toBe(
        `5열 25번 좌석, ${won(165_000)}, 선택 가능`,
      );
      const box = await seat(page, first).boundingBox();
      expect(box?.width ?? 0).toBeGreaterThanOrEqual(20);
      expect(await sideways(page)).toBeLessThanOrEqual(0);

      // Tap two seats side by side; the bar under the map counts them and holds them together.
      await seat(page, first).click();
      await seat(page, first + 1).click();
      await expect.poll(() => seat(page, first + 1).getAttribute('aria-pressed')).toBe('true');
      await page.locator('.hold-bar').getByText('2석 선택').waitFor();
      publish(await shot(page, 'arena-02-section-phone'), 'section-map-phone.png');
      await page.getByRole('button', { name: ko['seats.holdMany'].replace('{count}', '2') }).click();

      // The checkout lists both seats by place and pays them in one payment.
      await onCheckout(page);
      const held = page.getByTestId('checkout-seats');
      await expect.poll(() => held.locator('li').count()).toBe(2);
      expect(await held.textContent()).toContain('C구역 · 5열 · 25번');
      expect(await held.textContent()).toContain('C구역 · 5열 · 26번');
      await shot(page, 'arena-03-checkout-phone');
      await topUpAndPay(page, 2, 2 * 165_000);
      expect(await page.getByTestId('receipt-amount').textContent()).toBe(won(2 * 165_000));
      const receipt = page.getByTestId('receipt-seats');
      expect(await receipt.locator('li').count()).toBe(2);
      expect(await receipt.textContent()).toContain('C구역 · 5열 · 25번');
      expect(await receipt.textContent()).toContain('C구역 · 5열 · 26번');
      await shot(page, 'arena-04-receipt-phone');
      expect(pageProblems(page)).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('When a buyer asks for the best 3 seats in grade S, then three seats side by side in the first S section are held and paid together, and the operator sees them sold in that section', async () => {
    const { context, page } = await newVisitor(stack.browser(), stack.server().url, LAPTOP);
    try {
      await enterVenue(page, concertId, 'arena best buyer');
      const best = page.getByTestId('best-available');
      await best.getByLabel(ko['best.quantity']).selectOption('3');
      await best.getByLabel(ko['best.grade']).selectOption('S');
      await shot(page, 'arena-05-best-available');
      await best.getByRole('button', { name: ko['best.submit'].replace('{count}', '3') }).click();

      // The first run of three free S seats: section F, row 1, seats 1–3.
      await onCheckout(page);
      const held = page.getByTestId('checkout-seats');
      await expect.poll(() => held.locator('li').count()).toBe(3);
      for (const n of [1, 2, 3]) expect(await held.textContent()).toContain(`F구역 · 1열 · ${n}번`);
      await topUpAndPay(page, 3, 3 * 132_000);
      expect(await page.getByTestId('receipt-amount').textContent()).toBe(won(3 * 132_000));
      expect(await page.getByTestId('receipt-seats').locator('li').count()).toBe(3);
      await shot(page, 'arena-06-receipt-best');
      expect(pageProblems(page)).toEqual([]);
    } finally {
      await context.close();
    }

    // The operator console: seats sold per section for the date (2 in C from the first buyer, 3 in F).
    const operator = await newVisitor(stack.browser(), stack.server().url, LAPTOP);
    try {
      await operator.page.goto('/#/admin');
      await operator.page.getByLabel(ko['admin.key']).fill(ADMIN_KEY);
      await operator.page.getByRole('button', { name: ko['admin.signIn'] }).click();
      const sales = operator.page.locator(
        `section.console[data-concert-id="${concertId}"] [data-testid="seating-sales"]`,
      );
      const sold = (section: string) =>
        sales.locator(`tr[data-section="${section}"]`).getAttribute('data-sold');
      await expect.poll(() => sold('C')).toBe('2');
      await expect.poll(() => sold('F')).toBe('3');
      expect(await sold('A')).toBe('0');
      await sales.scrollIntoViewIfNeeded();
      await shot(operator.page, 'arena-07-operator-sales');
    } finally {
      await operator.context.close();
    }
  }, 120_000);

  it('When the operator loads a seating plan from a JSON file, then the form shows its sections and rows, and creating it makes a concert of that many seats', async () => {
    const { context, page } = await newVisitor(stack.browser(), stack.server().url, LAPTOP);
    try {
      await page.goto('/#/admin');
      await page.getByLabel(ko['admin.key']).fill(ADMIN_KEY);
      await page.getByRole('button', { name: ko['admin.signIn'] }).click();
      const seating = [
        { section: 'Floor', grade: 'VIP', price: 198_000, rows: [20, 22, 24] },
        { section: 'Stand', grade: 'R', price: 121_000, rows: [30, 30, 30, 30] },
      ];
      await page.getByLabel(ko['admin.upload']).setInputFiles({
        name: 'plan.json',
        mimeType: 'application/json',
        buffer: Buffer.from(JSON.stringify({ seating })),
      });
      await page.getByText(ko['admin.uploaded'].replace('{count}', '2')).waitFor();
      // Rows read back as the operator would write them: a list, and runs as rows × seats.
      const plan = page.getByTestId('seating-plan');
      const rowsInputs = plan.getByLabel(ko['admin.rows']);
      expect(await rowsInputs.nth(0).inputValue()).toBe('20, 22, 24');
      expect(await rowsInputs.nth(1).inputValue()).toBe('4×30');
      expect(await page.getByTestId('plan-total').textContent()).toContain('186');
      // A row typed in by hand that the API would refuse is flagged and blocks creating.
      await rowsInputs.nth(1).fill('4×501');
      await plan.getByText(ko['admin.rowsInvalid'].replace('{value}', '4×501')).waitFor();
      expect(await page.getByRole('button', { name: ko['admin.create'], exact: true }).isDisabled()).toBe(
        true,
      );
      await rowsInputs.nth(1).fill('4×30');

      await page.getByLabel(ko['admin.concertTitle'], { exact: true }).fill('Plan From File');
      await page.getByLabel(ko['admin.venue'], { exact: true }).fill('Test Arena');
      await page.getByRole('button', { name: ko['admin.create'], exact: true }).click();
      await page.getByText(ko['admin.created'].replace('{title}', 'Plan From File')).waitFor();
      await shot(page, 'arena-08-plan-uploaded');
      const listed = (await (await fetch(`${stack.server().url}/api/v1/concerts`)).json()) as {
        concertId: string;
        title: string;
      }[];
      const created = listed.find((c) => c.title === 'Plan From File');
      expect(created).toBeDefined();
      const seatingOf = await fetch(
        `${stack.server().url}/api/v1/admin/concerts/${created!.concertId}/seating`,
        {
          headers: { 'admin-key': ADMIN_KEY },
        },
      );
      const [show] = (await seatingOf.json()) as { sections: { section: string; totalSeats: number }[] }[];
      expect(show!.sections.map((s) => [s.section, s.totalSeats])).toEqual([
        ['Floor', 66],
        ['Stand', 120],
      ]);
    } finally {
      await context.close();
    }
  }, 120_000);
});
