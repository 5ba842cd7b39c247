import type { ConcertsService } from './concerts.service.js';
import { addDays, todayUtc } from './dates.js';

/** Fixed so the README's walk-through can name it. */
export const DEMO_CONCERT_ID = '5eed0000-0000-4000-8000-000000000001';

/** VIP rows at the front, then R and S sections: seats 1–10, 11–30, 31–50. */
export function demoPrice(seatNumber: number): number {
  if (seatNumber <= 10) return 165_000;
  if (seatNumber <= 30) return 132_000;
  return 99_000;
}

/**
 * On an empty database: one concert, three dates a month out, 50 seats each. Instances that
 * start together all find the database empty; the fixed id lets exactly one insert win (one
 * transaction), and the others see its unique violation and leave the seed to the winner.
 */
export async function seedDemo(concerts: ConcertsService, now: number): Promise<boolean> {
  if (!(await concerts.isEmpty())) return false;
  const first = addDays(todayUtc(now), 30);
  try {
    await concerts.createWithPrices(
      DEMO_CONCERT_ID,
      'Aurora Sound — Winter Tour 2026',
      'Olympic Hall, Seoul',
      [first, addDays(first, 1), addDays(first, 2)],
      demoPrice,
      now,
    );
  } catch (error) {
    if (uniqueViolation(error)) return false;
    throw error;
  }
  return true;
}

function uniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; cause?: { code?: unknown } };
  return e?.code === '23505' || e?.cause?.code === '23505';
}
