import type { BenchUser, ConcertInfo } from '../lib/api.js';
import { gated } from '../lib/api.js';
import { runWrk } from '../lib/wrk.js';
import {
  allAnswered,
  loadSettings,
  noServerErrors,
  type Scenario,
  type ScenarioContext,
} from './scenario.js';

/** Seats prepared per second of run: enough for 6,000 holds/s. */
const SEATS_PER_SECOND_PREPARED = 6_000;
const SEATS_PER_SHOW = 200;
const MAX_DATES = 366;
/** Holds per user, under MAX_HOLDS_PER_USER = 50 so the limit never answers. */
const HOLDS_PER_USER = 40;
export const SEAT_PRICE = 1_000;

export interface HeldSeats {
  concert: ConcertInfo;
  users: BenchUser[];
}

/** A concert with many dates × 200 seats, and enough active users to hold every seat. */
export async function prepareHolders(ctx: ScenarioContext, seatsWanted: number): Promise<HeldSeats> {
  const dates = Math.min(MAX_DATES, Math.max(1, Math.ceil(seatsWanted / SEATS_PER_SHOW)));
  ctx.progress(`hold-spread: creating ${dates} dates × ${SEATS_PER_SHOW} seats`);
  const concert = await ctx.api.createConcert(dates, SEATS_PER_SHOW, SEAT_PRICE, 'bench holds');
  ctx.cluster.trackConcert(concert.concertId);
  await ctx.api.setQueue(concert.concertId, { maxActive: 1_000_000, admitPerSecond: 100_000 });
  const userCount = Math.ceil((dates * SEATS_PER_SHOW) / HOLDS_PER_USER);
  ctx.progress(`hold-spread: ${userCount} users sign up, charge, join and get in`);
  const users = await ctx.api.createUsers(userCount, 64);
  await ctx.api.charge(users, SEAT_PRICE * 50);
  await ctx.api.join(users, concert.concertId, 64);
  await ctx.api.waitActive(users);
  return { concert, users };
}

/** Active users hold distinct seats spread over every show of the concert. */
export const holdSpread: Scenario = async (ctx) => {
  const seatsWanted = Math.ceil(SEATS_PER_SECOND_PREPARED * ctx.durationSeconds);
  const held = await prepareHolders(ctx, seatsWanted);
  const { concert, users } = held;
  const seats = concert.dates.length * concert.seats;
  // Request i takes date i % D, seat i / D: neighbours in time hit different shows and users.
  const requests = Array.from({ length: seats }, (_, i) => ({
    method: 'POST' as const,
    path: '/api/v1/reservations',
    headers: gated(users[i % users.length]!),
    body: {
      concertId: concert.concertId,
      date: concert.dates[i % concert.dates.length],
      seatNumber: Math.floor(i / concert.dates.length) + 1,
    },
  }));
  ctx.progress(`hold-spread: up to ${ctx.durationSeconds} s of holds over ${seats} seats`);
  const load = await runWrk({
    name: 'hold-spread',
    targets: ctx.api.urls,
    requests,
    ...loadSettings(ctx),
    once: true,
  });
  ctx.shared.set('held', held);
  const holds = load.counts['201'] ?? 0;
  return {
    name: 'hold-spread',
    unit: 'holds/s',
    load: { ...load, perSecond: holds / load.seconds },
    ceiling: ctx.cluster.databaseUrl ? 'holdSql' : 'pg',
    checks: [noServerErrors(load), allAnswered(load, '201', 'every hold of a free seat wins (201)')],
    facts: { dates: concert.dates.length, seats, users: users.length },
  };
};
