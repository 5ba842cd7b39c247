import { gated } from '../lib/api.js';
import { createSeatedConcert, uniformPlan } from '../lib/seating.js';
import { runWrk } from '../lib/wrk.js';
import { allAnswered, loadSettings, noServerErrors, type Scenario } from './scenario.js';

/** Requests prepared per second of run: enough for 6,000 holds/s, as hold-spread prepares. */
const REQUESTS_PER_SECOND_PREPARED = 6_000;
/** Each show: 4 sections (VIP, R, S, A) of 10 rows × 10 seats. */
const SECTIONS = 4;
const ROWS = 10;
const SEATS_PER_ROW = 10;
/**
 * Requests per section: rounds asking 1 then 2 seats in turn, 90 seats of the 100, so every
 * request finds a run and a refusal would be a fault, not a full section.
 */
const ROUNDS = 60;
const MAX_DATES = 366;
/** Requests per user: at most 50 seats held (the bench's MAX_HOLDS_PER_USER), 2 per request. */
const REQUESTS_PER_USER = 25;

/**
 * Active users ask for the best 1 or 2 seats of a section (`quantity` and `section`), spread
 * over many shows and sections as hold-spread spreads its one-seat holds: the rate is compared
 * with hold-spread's in the same run (issue 17: ≥ 0.8 ×).
 */
export const holdBest: Scenario = async (ctx) => {
  const wanted = Math.ceil(REQUESTS_PER_SECOND_PREPARED * ctx.durationSeconds);
  const dates = Math.min(MAX_DATES, Math.max(1, Math.ceil(wanted / (SECTIONS * ROUNDS))));
  ctx.progress(`hold-best: creating ${dates} dates × ${SECTIONS} sections of ${ROWS} × ${SEATS_PER_ROW}`);
  const concert = await createSeatedConcert(
    ctx.api,
    dates,
    uniformPlan(SECTIONS, ROWS, SEATS_PER_ROW),
    'bench best available',
  );
  ctx.cluster.trackConcert(concert.concertId);
  await ctx.api.setQueue(concert.concertId, { maxActive: 1_000_000, admitPerSecond: 100_000 });
  const count = dates * SECTIONS * ROUNDS;
  const userCount = Math.ceil(count / REQUESTS_PER_USER);
  ctx.progress(`hold-best: ${userCount} users sign up, join and get in`);
  const users = await ctx.api.createUsers(userCount, 64);
  await ctx.api.join(users, concert.concertId, 64);
  await ctx.api.waitActive(users);
  // Request i: show i % D, then section, then round; neighbours in time hit different shows.
  const requests = Array.from({ length: count }, (_, i) => {
    const round = Math.floor(i / (dates * SECTIONS));
    return {
      method: 'POST' as const,
      path: '/api/v1/reservations',
      headers: gated(users[i % users.length]!),
      body: {
        concertId: concert.concertId,
        date: concert.dates[i % dates],
        quantity: 1 + (round % 2),
        section: concert.sections[Math.floor(i / dates) % SECTIONS]!.section,
      },
    };
  });
  ctx.progress(`hold-best: up to ${ctx.durationSeconds} s of best-available holds (${count} prepared)`);
  const load = await runWrk({
    name: 'hold-best',
    targets: ctx.api.urls,
    requests,
    ...loadSettings(ctx),
    once: true,
  });
  const holds = load.counts['201'] ?? 0;
  return {
    name: 'hold-best',
    unit: 'holds/s',
    load: { ...load, perSecond: holds / load.seconds },
    ceiling: ctx.cluster.databaseUrl ? 'holdSql' : 'pg',
    checks: [noServerErrors(load), allAnswered(load, '201', 'every best-available hold finds a run (201)')],
    facts: {
      dates,
      seatsPerShow: concert.totalSeats,
      requests: count,
      users: users.length,
      seatsPerHold: 1.5,
      seatsPerSecond: Math.round((holds * 1.5) / load.seconds),
    },
  };
};
