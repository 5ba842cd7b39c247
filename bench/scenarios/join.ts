import { bearer, signedUsers } from '../lib/api.js';
import { runWrk } from '../lib/wrk.js';
import { allAnswered, loadSettings, noServerErrors, type Scenario } from './scenario.js';

/** Most joins one run prepares; at 30,000/s a 10 s run needs 300,000. */
const JOINS_PER_SECOND_PREPARED = 30_000;
const MAX_JOINS = 400_000;

/** Distinct users take a queue token each (201 every time); the line is paused. */
export const join: Scenario = async (ctx) => {
  const concert = await ctx.api.createConcert(1, 50, 1000, 'bench join');
  ctx.cluster.trackConcert(concert.concertId);
  await ctx.api.setQueue(concert.concertId, { paused: true });
  const count = Math.min(MAX_JOINS, Math.ceil(JOINS_PER_SECOND_PREPARED * ctx.durationSeconds));
  ctx.progress(`join: signing ${count} users`);
  const users = signedUsers(ctx.authSecret, count);
  const body = { concertId: concert.concertId };
  ctx.progress(`join: ${ctx.durationSeconds} s of joins`);
  const load = await runWrk({
    name: 'join',
    targets: ctx.api.urls,
    requests: users.map((u) => ({ method: 'POST', path: '/api/v1/queue/tokens', headers: bearer(u), body })),
    ...loadSettings(ctx),
    once: true,
  });
  return {
    name: 'join',
    unit: 'req/s',
    load,
    ceiling: ctx.cluster.databaseUrl ? 'redis' : 'http',
    checks: [noServerErrors(load), allAnswered(load, '201', 'every join is a new token (201)')],
    facts: { preparedUsers: count },
  };
};
