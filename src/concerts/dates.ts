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
