import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';

/**
 * Issue 16 item 1, "each rule once": whether a hold is live, what a reservation's status reads
 * as, and whether a seat is free are written in src/reservations/hold-rules.sql and nowhere
 * else. Everything else calls those functions (hold_is_live, hold_has_lapsed,
 * reservation_status, seat_is_free, live_holds). This test reads every .ts and .sql file under
 * src/ with its comments removed and fails on any other spelling of the rule it can recognise:
 *
 * - an expiry compared with a time (`hold_expires_at > …`, `${seats.holdExpiresAt} <= …`,
 *   `gt(reservations.holdExpiresAt, …)`, `row.holdExpiresAt.getTime() > now`);
 * - a status compared with 'HELD' (`status = 'HELD'`, `eq(t.status, 'HELD')`, `status === 'HELD'`);
 * - the body of seat_is_free (`hold_expires_at IS NULL OR …`);
 * - a TypeScript twin by a known name (`effectiveStatus`, `isSeatFree`, …);
 * - a definition of one of the rule functions in another file.
 *
 * The one exception is the two partial indexes of src/db/schema.ts: an index predicate must
 * repeat `status = 'HELD'` for the planner to use it (the rules are inlined into it, see the
 * header of hold-rules.sql), and the migrations create them from there.
 */

const ROOT = new URL('../../', import.meta.url).pathname;
const SRC = join(ROOT, 'src');
const RULES_FILE = 'src/reservations/hold-rules.sql';
const RULE_FUNCTIONS = [
  'hold_is_live',
  'hold_has_lapsed',
  'reservation_status',
  'seat_is_free',
  'live_holds',
];

const EXPIRY = '(?:hold_expires_at|holdExpiresAt)';
const CMP = '(?:<=|>=|<>|!=|<(?![<=>])|>(?![>=]))';

/** Each forbidden spelling, with why it is one. */
const FORBIDDEN: { why: string; pattern: RegExp }[] = [
  {
    why: 'an expiry compared with a time (use hold_is_live / hold_has_lapsed / seat_is_free)',
    // hold_expires_at > x, ${seats.holdExpiresAt} <= x, row.holdExpiresAt.getTime() > now
    pattern: new RegExp(String.raw`\b${EXPIRY}\}?(?:\.getTime\(\))?\)?\s*${CMP}`),
  },
  {
    why: 'a time compared with an expiry (use hold_is_live / hold_has_lapsed / seat_is_free)',
    // x < hold_expires_at, now >= ${reservations.holdExpiresAt}; `=>` and `->` are not comparisons
    pattern: new RegExp(String.raw`(?<![=\-])${CMP}\s*(?:\$\{)?(?:Date\.parse\()?[\w.]*\b${EXPIRY}\b`),
  },
  {
    why: 'an expiry compared through a query builder (use the SQL rule functions)',
    pattern: new RegExp(String.raw`\b(?:gt|gte|lt|lte|between)\(\s*[\w.]*\b${EXPIRY}\b`),
  },
  {
    why: "a status compared with 'HELD' (use hold_is_live / reservation_status)",
    pattern: /\bstatus\}?\s*(?:=|==|===|<>|!=|!==)\s*'HELD'/i,
  },
  {
    why: "'HELD' compared with a status (use hold_is_live / reservation_status)",
    pattern: /'HELD'\s*(?:=|==|===|<>|!=|!==)\s*(?:\$\{)?[\w.]*status\b/i,
  },
  {
    why: "a status matched with 'HELD' through a query builder (use the SQL rule functions)",
    pattern: /\b(?:eq|ne|inArray|notInArray)\(\s*[\w.]*status\s*,\s*(?:\[[^\]]*)?'HELD'/,
  },
  {
    why: 'the body of seat_is_free written out (call seat_is_free)',
    pattern: new RegExp(String.raw`\b${EXPIRY}\}?\s+IS\s+(?:NOT\s+)?NULL\s+(?:OR|AND)\b`, 'i'),
  },
  {
    why: 'a TypeScript twin of the rules (the database decides)',
    pattern:
      /\b(?:effectiveStatus|isHoldLive|holdIsLive|isSeatFree|seatIsFree|holdHasLapsed|hasLapsed|isLapsed)\b/,
  },
  {
    why: `a rule function defined outside ${RULES_FILE}`,
    pattern: new RegExp(String.raw`\bFUNCTION\s+(?:${RULE_FUNCTIONS.join('|')})\s*\(`, 'i'),
  },
];

/** The partial indexes of schema.ts: an index predicate that repeats status = 'HELD'. */
const ALLOWED = [
  {
    file: 'src/db/schema.ts',
    line: /^\s*index\('\w+'\)\.on\([^)]*\)\.where\(sql`\$\{t\.status\} = 'HELD'`\),?\s*$/,
  },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|sql)$/.test(name) ? [path] : [];
  });
}

/**
 * The text with comments blanked out (line numbers kept), so a comment may explain the rule.
 * Good enough for this code base: no string literal here contains `//`, `/*` or `--` in a way
 * that hides code after it (a URL in a string only loses the rest of its own line).
 */
function withoutComments(text: string, kind: 'ts' | 'sql'): string {
  const blank = (m: string) => m.replace(/[^\n]/g, ' ');
  let out = text.replace(/\/\*[\s\S]*?\*\//g, blank);
  out =
    kind === 'ts'
      ? out.replace(/(^|[^:'"`])\/\/.*$/gm, (m, lead) => lead + blank(m.slice(lead.length)))
      : out;
  out = out.replace(/--.*$/gm, blank);
  return out;
}

/** Every line of src/ outside the rules file that spells the rule another way. */
function otherSpellings(files: { path: string; text: string }[]) {
  const found: string[] = [];
  for (const { path, text } of files) {
    if (path === RULES_FILE) continue;
    const lines = withoutComments(text, path.endsWith('.sql') ? 'sql' : 'ts').split('\n');
    lines.forEach((line, i) => {
      for (const { why, pattern } of FORBIDDEN) {
        if (!pattern.test(line)) continue;
        if (ALLOWED.some((a) => a.file === path && a.line.test(line))) continue;
        found.push(`${path}:${i + 1}: ${why}\n    ${line.trim()}`);
      }
    });
  }
  return found;
}

const files = sourceFiles(SRC).map((path) => ({
  path: relative(ROOT, path),
  text: readFileSync(path, 'utf8'),
}));

describe('the hold rules are written once', () => {
  test('when src/ is read, then no .ts or .sql file outside hold-rules.sql spells the hold or seat rule', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(otherSpellings(files)).toEqual([]);
  });

  test('when hold-rules.sql is read, then it defines each rule function once', () => {
    const rules = files.find((f) => f.path === RULES_FILE)!.text;
    for (const name of RULE_FUNCTIONS) {
      const definitions = rules.match(new RegExp(String.raw`CREATE OR REPLACE FUNCTION ${name}\(`, 'g'));
      expect(definitions, name).toHaveLength(1);
    }
  });

  test('when the schema is read, then the only exceptions are the partial indexes on live holds', () => {
    // The exception is narrow: exactly the two index predicates, nothing else in schema.ts.
    const schema = files.find((f) => f.path === 'src/db/schema.ts')!.text;
    const held = schema.split('\n').filter((line) => /'HELD'\s*`/.test(line));
    expect(held).toHaveLength(2);
    for (const line of held) expect(line).toMatch(ALLOWED[0]!.line);
  });

  // The patterns must catch what they are meant to: the spellings the code base had before
  // (concerts.service.ts wrote seat_is_free's body inline; reservation-rules.ts was a twin).
  test.each([
    ['sql', `WHERE NOT s.sold AND (s.hold_expires_at IS NULL OR s.hold_expires_at <= \${at})`],
    [
      'ts',
      `sql\`NOT \${seats.sold} AND (\${seats.holdExpiresAt} IS NULL OR \${seats.holdExpiresAt} <= \${at})\``,
    ],
    ['sql', "WHERE r.status = 'HELD' AND r.hold_expires_at > p_at"],
    ['sql', 'AND p_at < hold_expires_at'],
    ['ts', "and(eq(reservations.status, 'HELD'), gt(reservations.holdExpiresAt, at))"],
    ['ts', "if (row.status === 'HELD' && row.holdExpiresAt.getTime() <= now) return 'EXPIRED';"],
    ['ts', 'return now >= Date.parse(view.holdExpiresAt);'],
    ['ts', 'export function effectiveStatus(status: string, expires: Date, now: number) {'],
    ['sql', 'CREATE OR REPLACE FUNCTION seat_is_free(p_sold boolean) RETURNS boolean'],
  ])('when a %s file spells the rule as `%s`, then the test finds it', (kind, line) => {
    const path = `src/example.${kind}`;
    expect(otherSpellings([{ path, text: line }]).length).toBeGreaterThan(0);
  });

  test.each([
    ['ts', `status: sql\`reservation_status(r.status, r.hold_expires_at, \${at})\`,`],
    ['sql', 'UPDATE seats s SET reservation_id = NULL, hold_expires_at = NULL'],
    ['sql', 'AND seat_is_free(s.sold, s.hold_expires_at, p_at)'],
    ['ts', "const held: Type = sql<number>`x`; // status = 'HELD' in a comment"],
    ['ts', "status: Type.Union([Type.Literal('HELD'), Type.Literal('CONFIRMED')]),"],
    ['ts', 'holdExpiresAt: Timestamp,'],
  ])('when a %s file calls the rules or names the column (`%s`), then the test lets it be', (kind, line) => {
    expect(otherSpellings([{ path: `src/example.${kind}`, text: line }])).toEqual([]);
  });
});
