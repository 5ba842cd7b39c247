import type { ConcertsService } from './concerts.service.js';
import { addDays, todayUtc } from './dates.js';
import type { SectionPlan } from './seating-plan.js';

/** Fixed so the README's walk-through can name it. */
export const DEMO_CONCERT_ID = '5eed0000-0000-4000-8000-000000000001';

/** The arena demo's id, fixed like the first. */
export const DEMO_ARENA_ID = '5eed0000-0000-4000-8000-000000000002';

/** The seeds' 50 seats: a VIP row at the front, then R and S rows (seats 1–10, 11–30, 31–50). */
const HALL_PLAN: SectionPlan[] = [
  { section: 'VIP', grade: 'VIP', price: 165_000, rows: [10] },
  { section: 'R', grade: 'R', price: 132_000, rows: [10, 10] },
  { section: 'S', grade: 'S', price: 99_000, rows: [10, 10] },
];

const rowsOf = (rows: number, seats: number) => Array.from({ length: rows }, () => seats);

/**
 * A mid-size arena (3,360 seats a show): floor sections in front, stands around, grades VIP to A.
 * Big enough to show the venue overview, best available and a section map worth zooming.
 */
const ARENA_PLAN: SectionPlan[] = [
  { section: 'FLOOR-A', grade: 'VIP', price: 198_000, rows: rowsOf(12, 30) },
  { section: 'FLOOR-B', grade: 'VIP', price: 198_000, rows: rowsOf(12, 30) },
  { section: '101', grade: 'R', price: 165_000, rows: rowsOf(16, 25) },
  { section: '102', grade: 'R', price: 165_000, rows: rowsOf(16, 25) },
  { section: '103', grade: 'R', price: 165_000, rows: rowsOf(16, 25) },
  { section: '201', grade: 'S', price: 132_000, rows: rowsOf(20, 20) },
  { section: '202', grade: 'S', price: 132_000, rows: rowsOf(20, 20) },
  { section: '301', grade: 'A', price: 99_000, rows: rowsOf(16, 20) },
  { section: '302', grade: 'A', price: 99_000, rows: rowsOf(16, 20) },
];

/**
 * On an empty database: the seeds' concert (three dates a month out, 50 seats each) and an
 * arena concert (three dates, 3,360 seats each). Instances that start together all find the
 * database empty; the fixed ids let exactly one insert win (one transaction each), and the
 * others see its unique violation and leave the seed to the winner.
 */
export async function seedDemo(concerts: ConcertsService, now: number): Promise<boolean> {
  if (!(await concerts.isEmpty())) return false;
  const first = addDays(todayUtc(now), 30);
  const dates = [first, addDays(first, 1), addDays(first, 2)].map((date) => ({ date }));
  try {
    await concerts.create(
      { title: 'Aurora Sound — Winter Tour 2026', venue: 'Olympic Hall, Seoul', seating: HALL_PLAN, dates },
      now,
      undefined,
      DEMO_CONCERT_ID,
    );
    await concerts.create(
      { title: 'Neon Tide — Arena Live', venue: 'KSPO Dome, Seoul', seating: ARENA_PLAN, dates },
      now,
      undefined,
      DEMO_ARENA_ID,
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
