/**
 * Show dates are calendar days (YYYY-MM-DD). "Today" is the UTC day, like every timestamp of
 * the API, so a date is in the past once that UTC day is over.
 */
export function todayUtc(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00.000Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Most seats of a show created with the simple form (API.md: `seats` 1..200). */
export const MAX_SIMPLE_FORM_SEATS = 200;

/** Why a new concert's dates are not acceptable, or null: each date once, none in the past. */
export function invalidShowDates(dates: readonly string[], now: number): string | null {
  if (new Set(dates).size !== dates.length) return 'Each date may appear once';
  const today = todayUtc(now);
  const past = dates.find((d) => d < today);
  return past ? `${past} is in the past` : null;
}
