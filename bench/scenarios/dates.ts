import { gated } from '../lib/api.js';
import { runWrk } from '../lib/wrk.js';
import { admittedReaders, allAnswered, loadSettings, noServerErrors, type Scenario } from './scenario.js';

/**
 * Admitted users read a concert's dates list (3 dates × 50 seats, the rush's shape). Bounded
 * by the bare HTTP ceiling: an unchanged list is not aggregated in PostgreSQL again.
 */
export const dates: Scenario = async (ctx) => {
  const { concert, users } = await admittedReaders(ctx, 'dates');
  ctx.progress(`dates: ${ctx.durationSeconds} s of dates lists`);
  const load = await runWrk({
    name: 'dates',
    targets: ctx.api.urls,
    requests: users.map((u) => ({
      method: 'GET',
      path: `/api/v1/concerts/${concert.concertId}/dates`,
      headers: gated(u),
    })),
    ...loadSettings(ctx),
    once: false,
  });
  return {
    name: 'dates',
    unit: 'req/s',
    load,
    ceiling: 'http',
    checks: [noServerErrors(load), allAnswered(load, '200', 'every read is 200')],
    facts: { activeUsers: users.length },
  };
};
