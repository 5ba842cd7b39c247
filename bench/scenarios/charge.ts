import { randomUUID } from 'node:crypto';
import { bearer, mapLimit } from '../lib/api.js';
import { runWrk } from '../lib/wrk.js';
import { allAnswered, loadSettings, noServerErrors, type Scenario } from './scenario.js';

const USERS = 10_000;
/** Charges prepared per second of run: above any rate seen here. */
const CHARGES_PER_SECOND_PREPARED = 6_000;
const AMOUNT = 1_000;

/**
 * 10,000 users charge their balance, each charge with its own Idempotency-Key (as the web app
 * sends one); afterwards every balance must equal its history's sum and the charges counted.
 */
export const charge: Scenario = async (ctx) => {
  const users = ctx.smoke ? 200 : USERS;
  ctx.progress(`charge: ${users} users sign up`);
  const accounts = await ctx.api.createUsers(users, 64);
  const count = Math.ceil(CHARGES_PER_SECOND_PREPARED * (ctx.durationSeconds + ctx.warmupSeconds));
  const requests = Array.from({ length: count }, (_, i) => ({
    method: 'POST' as const,
    path: '/api/v1/balance/charges',
    headers: { ...bearer(accounts[i % users]!), 'Idempotency-Key': randomUUID() },
    body: { amount: AMOUNT },
  }));
  ctx.progress(`charge: up to ${ctx.durationSeconds} s of charges by ${users} users`);
  const load = await runWrk({
    name: 'charge',
    targets: ctx.api.urls,
    requests,
    ...loadSettings(ctx),
    once: true,
  });

  // Money is exact: every balance is the sum of its history, and the warm-up's and the measured
  // charges are all there.
  const sums = await mapLimit(accounts, 64, async (u, i) => {
    const { balance } = await ctx.api.ok<{ balance: number }>('GET', '/api/v1/balance', {
      headers: bearer(u),
      instance: i,
    });
    const history = await ctx.api.ok<{ amount: number }[]>('GET', '/api/v1/balance/history', {
      headers: bearer(u),
      instance: i,
    });
    return { balance, drift: history.reduce((a, h) => a + h.amount, 0) !== balance };
  });
  const total = sums.reduce((a, s) => a + s.balance, 0);
  const drift = sums.filter((s) => s.drift).length;
  const charged = load.counts['200'] ?? 0;
  return {
    name: 'charge',
    unit: 'charges/s',
    load: { ...load, perSecond: charged / load.seconds },
    ceiling: ctx.cluster.databaseUrl ? 'chargeSql' : 'pg',
    checks: [
      noServerErrors(load),
      allAnswered(load, '200', 'every charge succeeds (200)'),
      { name: 'every balance equals its history', ok: drift === 0, detail: `${drift} users drift` },
      {
        name: 'no charge lost or made up',
        ok: total % AMOUNT === 0 && total / AMOUNT >= charged,
        detail: `${total / AMOUNT} charges in balances, ${charged} answered 200 while measured`,
      },
    ],
    facts: { users, prepared: count },
  };
};
