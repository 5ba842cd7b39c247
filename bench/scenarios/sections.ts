import { type BenchUser, gated, signedUsers } from '../lib/api.js';
import { createSeatedConcert, type SeatedConcert, uniformPlan, wireSize } from '../lib/seating.js';
import { runWrk } from '../lib/wrk.js';
import {
  allAnswered,
  loadSettings,
  noServerErrors,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
} from './scenario.js';

/**
 * The venue reads of issue 17, measured beside today's 50-seat `seatmap` in the same run:
 * `sections` (the venue at a glance) and `seatmap-section` (one 2,000-seat section's map), both
 * asked as a browser asks them (`accept-encoding: br, gzip`), so the answers are the
 * pre-compressed ones the read cache keeps per version. Target: each ≥ 0.5 × seatmap's rate.
 */
const BROWSER = { 'accept-encoding': 'br, gzip' };
/** A section of 40 rows × 50 seats: the 2,000-seat map of the target. */
const ROWS = 40;
const SEATS_PER_ROW = 50;
const FULL = { dates: 3, sections: 10, readers: 500 };
const SMOKE = { dates: 1, sections: 2, readers: 100 };

interface Venue {
  concert: SeatedConcert;
  users: BenchUser[];
}

/** One venue and its admitted readers, made once and shared by both scenarios of a run. */
async function venueReaders(ctx: ScenarioContext, name: string): Promise<Venue> {
  const known = ctx.shared.get('venue') as Venue | undefined;
  if (known) return known;
  const shape = ctx.smoke ? SMOKE : FULL;
  ctx.progress(
    `${name}: creating ${shape.dates} date(s) × ${shape.sections} sections of ${ROWS} × ${SEATS_PER_ROW} seats`,
  );
  const concert = await createSeatedConcert(
    ctx.api,
    shape.dates,
    uniformPlan(shape.sections, ROWS, SEATS_PER_ROW),
    'bench venue',
  );
  ctx.cluster.trackConcert(concert.concertId);
  await ctx.api.setQueue(concert.concertId, { maxActive: 1_000_000, admitPerSecond: 100_000 });
  const users = signedUsers(ctx.authSecret, shape.readers);
  ctx.progress(`${name}: ${users.length} users join and get in`);
  await ctx.api.join(users, concert.concertId, 64);
  await ctx.api.waitActive(users);
  const venue = { concert, users };
  ctx.shared.set('venue', venue);
  return venue;
}

async function venueRead(
  ctx: ScenarioContext,
  name: string,
  pathOf: (venue: Venue, i: number) => string,
): Promise<ScenarioResult> {
  const venue = await venueReaders(ctx, name);
  const { users } = venue;
  const size = await wireSize(`${ctx.api.urls[0]}${pathOf(venue, 0)}`, { ...gated(users[0]!), ...BROWSER });
  ctx.progress(`${name}: ${ctx.durationSeconds} s of reads (${size.encoding}, ${size.bodyBytes} B body)`);
  const load = await runWrk({
    name,
    targets: ctx.api.urls,
    requests: users.map((u, i) => ({
      method: 'GET',
      path: pathOf(venue, i),
      headers: { ...gated(u), ...BROWSER },
    })),
    ...loadSettings(ctx),
    once: false,
  });
  return {
    name,
    unit: 'req/s',
    load,
    ceiling: 'http',
    checks: [
      noServerErrors(load),
      allAnswered(load, '200', 'every read is 200'),
      {
        // API.md: JSON answers of 1 KB or more are compressed; smaller ones go as they are.
        name: 'answered compressed (br or gzip) to a browser when 1 KB or more',
        ok:
          size.status === 200 &&
          (size.encoding === 'br' || size.encoding === 'gzip' || size.jsonBytes < 1024),
        detail: `${size.status}, ${size.encoding}, ${size.jsonBytes} B of JSON`,
      },
    ],
    facts: {
      activeUsers: users.length,
      encoding: size.encoding,
      bodyBytes: size.bodyBytes,
      jsonBytes: size.jsonBytes,
      wireBytesPerResponse: Math.round(load.wireBytesPerResponse ?? Number.NaN),
      seatsPerShow: venue.concert.totalSeats,
      sections: venue.concert.sections.length,
    },
  };
}

/** Admitted users read the venue at a glance (GET …/sections), spread over the dates. */
export const sections: Scenario = (ctx) =>
  venueRead(ctx, 'sections', ({ concert }, i) => {
    const date = concert.dates[i % concert.dates.length];
    return `/api/v1/concerts/${concert.concertId}/dates/${date}/sections`;
  });

/**
 * Admitted users read one 2,000-seat section's map (GET …/seats?section=): the front section
 * S01 of each date, the shape of `seatmap` (one answer per date) with 40 times the seats.
 */
export const seatmapSection: Scenario = (ctx) =>
  venueRead(ctx, 'seatmap-section', ({ concert }, i) => {
    const date = concert.dates[i % concert.dates.length];
    return `/api/v1/concerts/${concert.concertId}/dates/${date}/seats?section=${concert.sections[0]!.section}`;
  });

/**
 * As `seatmap-section`, but spread over every section of every date (30 answers of 2,000 seats),
 * as a stadium's buyers spread: each answer is rendered and compressed again once its MAX_AGE_MS
 * (1 s) is over, so this measures that rendering too.
 */
export const seatmapSections: Scenario = (ctx) =>
  venueRead(ctx, 'seatmap-sections', ({ concert }, i) => {
    const date = concert.dates[i % concert.dates.length];
    const section = concert.sections[Math.floor(i / concert.dates.length) % concert.sections.length]!;
    return `/api/v1/concerts/${concert.concertId}/dates/${date}/seats?section=${section.section}`;
  });
