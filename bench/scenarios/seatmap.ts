import { gated, signedUsers } from '../lib/api.js';
import { runWrk } from '../lib/wrk.js';
import { allAnswered, loadSettings, noServerErrors, type Scenario } from './scenario.js';

const ACTIVE_USERS = 500;

/** Active users read the seat map of a show (3 dates × 50 seats, the rush's shape). */
export const seatmap: Scenario = async (ctx) => {
  const concert = await ctx.api.createConcert(3, 50, 1000, 'bench seatmap');
  ctx.cluster.trackConcert(concert.concertId);
  await ctx.api.setQueue(concert.concertId, { maxActive: 1_000_000, admitPerSecond: 100_000 });
  const users = signedUsers(ctx.authSecret, ctx.smoke ? 100 : ACTIVE_USERS);
  ctx.progress(`seatmap: ${users.length} users join and get in`);
  await ctx.api.join(users, concert.concertId, 64);
  await ctx.api.waitActive(users);
  ctx.progress(`seatmap: ${ctx.durationSeconds} s of seat maps`);
  const load = await runWrk({
    name: 'seatmap',
    targets: ctx.api.urls,
    requests: users.map((u, i) => ({
      method: 'GET',
      path: `/api/v1/concerts/${concert.concertId}/dates/${concert.dates[i % concert.dates.length]}/seats`,
      headers: gated(u),
    })),
    ...loadSettings(ctx),
    once: false,
  });
  return {
    name: 'seatmap',
    unit: 'req/s',
    load,
    ceiling: 'pg',
    checks: [noServerErrors(load), allAnswered(load, '200', 'every read is 200')],
    facts: { activeUsers: users.length },
  };
};
