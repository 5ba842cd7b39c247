import { AppError } from '../shared/errors.js';

/**
 * Seating plans (API.md "Seating plans"): sections in the order the operator lists them (best
 * first), each with a grade, a price and rows of seats, front row first. Seats are numbered
 * 1..N in plan order: section by section, row by row from the front, left to right. This file
 * is the one place that numbering is computed; the database keeps its result on every seat row.
 */
export interface SectionPlan {
  section: string;
  grade: string;
  price: number;
  /** Seats in each row, front row first. */
  rows: number[];
}

/** A show has at most this many seats (API.md). */
export const MAX_SEATS_PER_SHOW = 100_000;
/** A show without `section` lists every seat only up to this size (API.md). */
export const MAX_SEATS_PER_FULL_MAP = 5_000;
/** The simple form (`seats` and `price` per date) has one section of this name and grade. */
export const SIMPLE_SECTION = { section: 'A', grade: 'R' } as const;

/** The simple form's plan: seats 1..n in one row of section A, grade R. */
export function simplePlan(seats: number, price: number): SectionPlan[] {
  return [{ ...SIMPLE_SECTION, price, rows: [seats] }];
}

export function totalSeats(plan: readonly SectionPlan[]): number {
  return plan.reduce((sum, s) => sum + s.rows.reduce((a, b) => a + b, 0), 0);
}

/** Why a plan is not acceptable (its parts are in range by schema), or null. */
export function invalidPlan(plan: readonly SectionPlan[]): string | null {
  const names = new Set<string>();
  for (const { section } of plan) {
    if (names.has(section)) return `Section ${JSON.stringify(section)} appears twice; names must be unique`;
    names.add(section);
  }
  const total = totalSeats(plan);
  if (total > MAX_SEATS_PER_SHOW)
    return `A show has at most ${MAX_SEATS_PER_SHOW} seats; this plan has ${total}`;
  return null;
}

/** A section as a show has it: where its seats start and end. */
export interface Section {
  sectionNo: number;
  name: string;
  grade: string;
  price: number;
  firstSeat: number;
  lastSeat: number;
  rowSeats: number[];
}

/** The plan laid out as numbered sections. */
export function layOut(plan: readonly SectionPlan[]): Section[] {
  let next = 1;
  return plan.map((s, sectionNo) => {
    const count = s.rows.reduce((a, b) => a + b, 0);
    const section = {
      sectionNo,
      name: s.section,
      grade: s.grade,
      price: s.price,
      firstSeat: next,
      lastSeat: next + count - 1,
      rowSeats: [...s.rows],
    };
    next += count;
    return section;
  });
}

/** Every row of a laid-out plan, as the column arrays the bulk insert of seats unnests. */
export function rowsOfPlan(sections: readonly Section[]) {
  const columns = {
    sectionNo: [] as number[],
    rowNo: [] as number[],
    firstSeat: [] as number[],
    seats: [] as number[],
    price: [] as number[],
  };
  for (const s of sections) {
    let first = s.firstSeat;
    s.rowSeats.forEach((seats, i) => {
      columns.sectionNo.push(s.sectionNo);
      columns.rowNo.push(i + 1);
      columns.firstSeat.push(first);
      columns.seats.push(seats);
      columns.price.push(s.price);
      first += seats;
    });
  }
  return columns;
}

/** A show's venue: its sections, and the seat ranges a best-available request may look in. */
export class Venue {
  private readonly byName: Map<string, Section>;

  constructor(readonly sections: readonly Section[]) {
    this.byName = new Map(sections.map((s) => [s.name, s]));
  }

  get totalSeats(): number {
    return this.sections.at(-1)?.lastSeat ?? 0;
  }

  /** The section of that name; 404 SECTION_NOT_FOUND (a seat-map query names it). */
  section(name: string): Section {
    const section = this.byName.get(name);
    if (!section) throw new AppError('SECTION_NOT_FOUND', `This show has no section ${JSON.stringify(name)}`);
    return section;
  }

  /**
   * Where best available looks, as ascending seat ranges: the named section, the sections of
   * the named grade, or the whole show. An unknown section or grade is a client mistake (400).
   */
  rangesFor(where: { section?: string; grade?: string }): { from: number[]; to: number[] } {
    let sections = this.sections;
    if (where.section !== undefined) {
      const section = this.byName.get(where.section);
      if (!section)
        throw new AppError('VALIDATION_FAILED', `This show has no section ${JSON.stringify(where.section)}`);
      sections = [section];
    }
    if (where.grade !== undefined) {
      sections = sections.filter((s) => s.grade === where.grade);
      if (sections.length === 0)
        throw new AppError('VALIDATION_FAILED', `No section of grade ${JSON.stringify(where.grade)} here`);
    }
    return { from: sections.map((s) => s.firstSeat), to: sections.map((s) => s.lastSeat) };
  }
}
