import { signedUsers } from '../lib/api.js';
import { runWrk } from '../lib/wrk.js';
import { allAnswered, loadSettings, noServerErrors, type Scenario } from './scenario.js';

const WAITING_USERS = 2_000;

/** Waiting users read their status; the line is paused so they all stay WAITING. */
export const poll: Scenario = async (ctx) => {
  const concert = await ctx.api.createConcert(1, 50, 1000, 'bench poll');
  ctx.cluster.trackConcert(concert.concertId);
  await ctx.api.setQueue(concert.concertId, { paused: true });
  const users = signedUsers(ctx.authSecret, ctx.smoke ? 200 : WAITING_USERS);
  ctx.progress(`poll: ${users.length} users join`);
  await ctx.api.join(users, concert.concertId, 64);
  ctx.progress(`poll: ${ctx.durationSeconds} s of status reads`);
  const load = await runWrk({
    name: 'poll',
    targets: ctx.api.urls,
    requests: users.map((u) => ({
      method: 'GET',
      path: '/api/v1/queue/status',
      headers: { 'Queue-Token': u.queueToken! },
    })),
    ...loadSettings(ctx),
    once: false,
  });
  return {
    name: 'poll',
    unit: 'req/s',
    load,
    ceiling: ctx.cluster.databaseUrl ? 'redis' : 'http',
    checks: [noServerErrors(load), allAnswered(load, '200', 'every read is 200')],
    facts: { waitingUsers: users.length },
  };
};
