import { checkSale } from '../../harness/invariants.js';
import { runSale } from '../../harness/sale.js';
import { cpuSeconds } from '../lib/machine.js';
import { startOwnCluster } from '../lib/own-cluster.js';
import type { Check, Scenario, ScenarioResult } from './scenario.js';

/**
 * The servers' settings for the rush, which starts instances of its own (the line's TTLs are
 * process settings, and the sale driver creates its concert itself): a line that admits fast
 * enough for 10,000 buyers to be served in minutes, holds that lapse soon enough to recycle
 * seats abandoned at a window's end.
 */
const RUSH_SETTINGS = {
  QUEUE_MAX_ACTIVE: 200,
  QUEUE_ADMIT_PER_SECOND: 200,
  QUEUE_ACTIVE_TTL_SECONDS: 30,
  HOLD_TTL_SECONDS: 15,
  QUEUE_IDLE_TIMEOUT_SECONDS: 30,
  MAX_HOLDS_PER_USER: 4,
};
const FULL = { users: 10_000, dates: 3, seatsPerDate: 50, timeLimitMs: 180_000 };
const SMOKE = { users: 300, dates: 1, seatsPerDate: 20, timeLimitMs: 60_000 };
const IN_FLIGHT = 256;

/**
 * The whole journey with the sale driver and invariant checks of harness/ (shared with the
 * cluster test): every user signs up, charges the price of a seat, joins at once, waits its
 * turn, picks seats among 3 dates × 50, retries on a taken seat and pays, until sold out.
 * Waiting users leave once someone has found the sale sold out. Needs cluster mode: the
 * invariants read PostgreSQL directly.
 */
export const rush: Scenario = async (ctx) => {
  const shape = ctx.smoke ? SMOKE : FULL;
  const base: ScenarioResult = {
    name: 'rush',
    unit: 'seats/s',
    load: {
      requests: 0,
      seconds: 0,
      perSecond: Number.NaN,
      latencyMs: { p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN },
      counts: {},
      socketErrors: {},
      serverCpuPerCore: Number.NaN,
    },
    ceiling: null,
    checks: [],
  };
  const instances = ctx.cluster.databaseUrl ? ctx.api.urls.length : 1;
  ctx.progress(`rush: starting ${instances} instance(s) with the rush's queue settings`);
  const own = await startOwnCluster(ctx, 'rush', RUSH_SETTINGS, IN_FLIGHT);
  const { client, pids: serverPids, databaseUrl } = own;
  let concertId: string | undefined;
  try {
    const cpuBefore = cpuSeconds(serverPids);
    const wallStart = Date.now();
    ctx.progress(`rush: ${shape.users} buyers, ${shape.dates} dates × ${shape.seatsPerDate} seats`);
    const ticker = setInterval(() => {
      const s = client.tally.snapshot();
      ctx.progress(`rush: ${Math.round((Date.now() - wallStart) / 1000)} s, ${s.total} requests answered`);
    }, 2000);
    let sale: Awaited<ReturnType<typeof runSale>>;
    try {
      sale = await runSale({
        client,
        adminKey: ctx.api.adminKey,
        authSecret: ctx.authSecret,
        users: shape.users,
        dates: shape.dates,
        seatsPerDate: shape.seatsPerDate,
        activeTtlMs: RUSH_SETTINGS.QUEUE_ACTIVE_TTL_SECONDS * 1000,
        timeLimitMs: shape.timeLimitMs,
        leaveWhenSoldOut: true,
        // A smoke sale is over in about two seconds: sample often enough for the invariant checks.
        monitorEveryMs: ctx.smoke ? 50 : 100,
      });
    } finally {
      clearInterval(ticker);
    }
    concertId = sale.concertId;
    const serverCpu = cpuSeconds(serverPids) - cpuBefore;
    const wallSeconds = (Date.now() - wallStart) / 1000;
    ctx.progress('rush: checking the invariants');
    const report = await checkSale({
      sale,
      client,
      adminKey: ctx.api.adminKey,
      ...(databaseUrl ? { databaseUrl } : {}),
      maxActive: RUSH_SETTINGS.QUEUE_MAX_ACTIVE,
      activeTtlMs: RUSH_SETTINGS.QUEUE_ACTIVE_TTL_SECONDS * 1000,
      apiUsers: 500,
    });
    const joins = sale.users.flatMap((u) => u.tickets.map((t) => t.joinedAt));
    const firstJoin = joins.length > 0 ? Math.min(...joins) : sale.startedAt;
    const sellOutMs = sale.soldOutAt === null ? null : sale.soldOutAt - firstJoin;
    const checks: Check[] = report.checks.map((c) => ({ name: c.name, ok: c.ok, detail: c.detail }));
    checks.push({
      name: 'sold out',
      ok: sale.soldOutAt !== null,
      detail: `${sale.sold}/${shape.dates * shape.seatsPerDate}`,
    });
    return {
      ...base,
      load: {
        requests: sale.requests.total,
        seconds: sale.durationMs / 1000,
        perSecond: sellOutMs ? sale.sold / (sellOutMs / 1000) : 0,
        latencyMs: base.load.latencyMs,
        counts: sale.requests.byStatus,
        socketErrors: {},
        serverCpuPerCore: serverCpu / wallSeconds,
      },
      checks,
      facts: {
        users: shape.users,
        seats: shape.dates * shape.seatsPerDate,
        sold: sale.sold,
        firstJoinToSoldOutMs: sellOutMs,
        saleMs: sale.durationMs,
        requestsPerSecond: Math.round(sale.requests.total / (sale.durationMs / 1000)),
        outcomes: sale.outcomes,
        violations: report.violations,
        settings: RUSH_SETTINGS,
        ...(!databaseUrl
          ? { sqlChecks: 'not run: the embedded database is not reachable from outside its process' }
          : {}),
      },
    };
  } finally {
    await own.stop(concertId ? [concertId] : []);
  }
};
