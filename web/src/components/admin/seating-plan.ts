import type { PlanSection } from '../../api';

/** What the admin API accepts (API.md, admin create body). */
export const PLAN_LIMITS = { rows: 500, seatsPerRow: 500, sections: 500, seatsPerShow: 100_000 } as const;

/**
 * Rows as an operator writes them: `40×50` (40 rows of 50 seats), `20, 22, 24` (seats in each
 * row, front first), or both (`5×30, 32, 34`). `x` and `*` work for `×`. Null when unreadable or
 * out of the API's bounds.
 */
export function parseRows(text: string): number[] | null {
  const rows: number[] = [];
  const items = text
    .split(/[,;\n]/)
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) return null;
  for (const item of items) {
    const match = /^(\d+)\s*(?:[×xX*]\s*(\d+))?$/.exec(item);
    if (!match) return null;
    const [count, seats] =
      match[2] === undefined ? [1, Number(match[1])] : [Number(match[1]), Number(match[2])];
    if (count < 1 || seats < 1 || seats > PLAN_LIMITS.seatsPerRow) return null;
    if (rows.length + count > PLAN_LIMITS.rows) return null;
    for (let i = 0; i < count; i++) rows.push(seats);
  }
  return rows;
}

/** The shortest text parseRows reads back as these rows: runs of equal rows as `n×seats`. */
export function formatRows(rows: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < rows.length; ) {
    let j = i;
    while (j < rows.length && rows[j] === rows[i]) j++;
    parts.push(j - i === 1 ? String(rows[i]) : `${j - i}×${rows[i]}`);
    i = j;
  }
  return parts.join(', ');
}

/**
 * A seating plan from an uploaded JSON file: the `seating` array itself, or a whole create body
 * that carries one. Throws an Error whose message says what is wrong; the server checks the rest.
 */
export function readPlanFile(text: string): PlanSection[] {
  const json: unknown = JSON.parse(text);
  const seating = Array.isArray(json) ? json : (json as { seating?: unknown } | null)?.seating;
  if (!Array.isArray(seating) || seating.length === 0) throw new Error('no "seating" array');
  return seating.map((entry: unknown, index) => {
    const s = entry as Partial<PlanSection> | null;
    const ok =
      s &&
      typeof s.section === 'string' &&
      typeof s.grade === 'string' &&
      Number.isInteger(s.price) &&
      Array.isArray(s.rows) &&
      s.rows.every((n) => Number.isInteger(n));
    if (!ok) throw new Error(`section ${index + 1}: needs "section", "grade", "price" and "rows"`);
    return { section: s.section!, grade: s.grade!, price: s.price!, rows: s.rows! };
  });
}
