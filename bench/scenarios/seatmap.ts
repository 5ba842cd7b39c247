import { gated } from '../lib/api.js';
import { runWrk } from '../lib/wrk.js';
import { admittedReaders, allAnswered, loadSettings, noServerErrors, type Scenario } from './scenario.js';

/**
 * Admitted users read the seat map of a show (3 dates × 50 seats, the rush's shape). Bounded
 * by the bare HTTP ceiling: an unchanged seat map is not read from PostgreSQL again.
 */
export const seatmap: Scenario = async (ctx) => {
  const { concert, users } = await admittedReaders(ctx, 'seatmap');
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
    ceiling: 'http',
    checks: [noServerErrors(load), allAnswered(load, '200', 'every read is 200')],
    // Asked without accept-encoding, as it always was: the figure issue 17's venue reads compare with.
    facts: {
      activeUsers: users.length,
      wireBytesPerResponse: Math.round(load.wireBytesPerResponse ?? Number.NaN),
    },
  };
};
