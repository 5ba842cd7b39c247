import { randomUUID } from 'node:crypto';
import { gated, mapLimit } from '../lib/api.js';
import type { PreparedRequest } from '../lib/wrk.js';
import { runWrk } from '../lib/wrk.js';
import { type HeldSeats, holdSpread } from './hold-spread.js';
import { allAnswered, loadSettings, noServerErrors, type Scenario, type ScenarioResult } from './scenario.js';

/**
 * Held seats are paid, each with its own Idempotency-Key (as the web app sends one). The seats
 * are those hold-spread left held; run alone, pay runs hold-spread first and reports it too.
 */
export const pay: Scenario = async (ctx) => {
  let before: ScenarioResult | undefined;
  if (!ctx.shared.has('held')) before = await holdSpread(ctx);
  const { concert, users } = ctx.shared.get('held') as HeldSeats;
  ctx.shared.delete('held');
  ctx.progress(`pay: listing the holds of ${users.length} users`);
  const perUser = await mapLimit(users, 64, (u, i) =>
    ctx.api.ok<{ reservationId: string; status: string }[]>('GET', '/api/v1/reservations', {
      headers: gated(u),
      instance: i,
    }),
  );
  // Round-robin over users: a user's last payment (which gives back the queue slot) comes late.
  const requests: PreparedRequest[] = [];
  const deepest = Math.max(0, ...perUser.map((r) => r.length));
  for (let k = 0; k < deepest; k++) {
    perUser.forEach((list, i) => {
      const r = list[k];
      if (r?.status !== 'HELD') return;
      requests.push({
        method: 'POST',
        path: '/api/v1/payments',
        headers: { ...gated(users[i]!), 'Idempotency-Key': randomUUID() },
        body: { reservationId: r.reservationId },
      });
    });
  }
  ctx.progress(`pay: up to ${ctx.durationSeconds} s of payments over ${requests.length} holds`);
  const load = await runWrk({
    name: 'pay',
    targets: ctx.api.urls,
    requests,
    ...loadSettings(ctx),
    once: true,
  });
  const paid = load.counts['201'] ?? 0;
  const result: ScenarioResult = {
    name: 'pay',
    unit: 'payments/s',
    load: { ...load, perSecond: paid / load.seconds },
    ceiling: ctx.cluster.databaseUrl ? 'paySql' : 'pg',
    checks: [noServerErrors(load), allAnswered(load, '201', 'every payment of a held seat succeeds (201)')],
    facts: { concertId: concert.concertId, holds: requests.length, heldBy: users.length },
  };
  if (before) result.facts!.holdSpreadRunFirst = true;
  return result;
};
