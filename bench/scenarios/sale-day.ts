import { createHash } from 'node:crypto';
import { drawOrder } from '../../scripts/verify-draw.mjs';
import { cpuSeconds } from '../lib/machine.js';
import { startOwnCluster } from '../lib/own-cluster.js';
import { summarize } from '../lib/stats.js';
import type { Check, Scenario } from './scenario.js';

/**
 * Sale day (issue 13): a sale scheduled ahead fills a pre-queue of a few thousand users through
 * the load generator, opens, and admits them in the drawn order, which is verified with the
 * published verifier (scripts/verify-draw.mjs) against the revealed seed and its commitment.
 *
 * The line is paused by the operator before the opening, so that right after the draw every
 * user's position can be read and compared with the draw exactly; it then resumes, and each
 * user's first ACTIVE poll round must follow the drawn order. The operator's samples must move.
 */
const SETTINGS = {
  PREQUEUE_MINUTES: 5,
  QUEUE_MAX_ACTIVE: 200,
  QUEUE_ADMIT_PER_SECOND: 200,
  QUEUE_ACTIVE_TTL_SECONDS: 30,
  QUEUE_IDLE_TIMEOUT_SECONDS: 600,
};
const FULL = { users: 3000, opensInMs: 120_000 };
const SMOKE = { users: 200, opensInMs: 15_000 };
const IN_FLIGHT = 128;
const WORKERS = 64;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const saleDay: Scenario = async (ctx) => {
  const shape = ctx.smoke ? SMOKE : FULL;
  const instances = ctx.cluster.databaseUrl ? ctx.api.urls.length : 1;
  const admin = { 'admin-key': ctx.api.adminKey };
  const own = await startOwnCluster(ctx, 'sale', SETTINGS, IN_FLIGHT);
  const { client, pids } = own;
  let concertId: string | undefined;
  try {
    const opensAt = Date.now() + shape.opensInMs;
    const created = await client.call('POST', '/api/v1/admin/concerts', {
      headers: admin,
      body: {
        title: 'Sale day bench',
        venue: 'Hall',
        saleOpensAt: new Date(opensAt).toISOString(),
        dates: [{ date: new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10), price: 1000 }],
      },
    });
    concertId = created.body.concertId as string;
    const line = `/api/v1/admin/concerts/${concertId}/queue`;
    await client.call('PATCH', line, { headers: admin, body: { paused: true }, retryable: true });
    const commitment: string = (await client.call('GET', `/api/v1/concerts/${concertId}/draw`)).body
      .seedCommitment;

    // The pre-queue fills: every user signs up and joins, all at once.
    ctx.progress(
      `sale-day: ${shape.users} users join the pre-queue; the sale opens in ${shape.opensInMs / 1000} s`,
    );
    const cpuBefore = cpuSeconds(pids);
    const fillStart = Date.now();
    const joinLatencies: number[] = [];
    // WORKERS users at a time, each signing up then joining, so a join's latency is the
    // server's answer time and not a wait in the generator's own queue.
    type Fan = { status: number; position: number | null; token: string; ticket: number };
    const users: Fan[] = new Array(shape.users);
    let next = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        for (let i = next++; i < shape.users; i = next++) {
          const user = await client.call('POST', '/api/v1/users', { body: { name: `fan${i}` } });
          const auth = { authorization: `Bearer ${user.body.accessToken}` };
          const started = performance.now();
          const joined = await client.call('POST', '/api/v1/queue/tokens', {
            headers: auth,
            body: { concertId },
          });
          joinLatencies.push(performance.now() - started);
          users[i] = {
            status: joined.status,
            position: joined.body.position,
            token: joined.body.token as string,
            ticket: joined.body.ticket as number,
          };
        }
      }),
    );
    const fillSeconds = (Date.now() - fillStart) / 1000;
    const fillCpu = cpuSeconds(pids) - cpuBefore;
    if (Date.now() > opensAt)
      throw new Error('the pre-queue did not fill before the opening: give it more time');

    // The opening: one status read per user (through any instance) draws and shows places.
    await sleep(opensAt - Date.now() + 500);
    const openedAt = Date.now();
    const places = await Promise.all(
      users.map(
        async (u) =>
          (await client.call('GET', '/api/v1/queue/status', { headers: { 'queue-token': u.token } })).body,
      ),
    );
    const readSeconds = (Date.now() - openedAt) / 1000;
    const draw = (await client.call('GET', `/api/v1/concerts/${concertId}/draw`)).body;
    const verified = drawOrder(
      draw.seed,
      users.map((u) => u.ticket),
    );
    const rank = new Map<number, number>(draw.tickets.map((t: number, i: number) => [t, i + 1]));

    // Resume; users poll in rounds, and whoever is ACTIVE gives the slot back.
    await client.call('PATCH', line, { headers: admin, body: { paused: false }, retryable: true });
    const admittedRound = new Map<number, number>();
    for (let round = 0; admittedRound.size < users.length && round < 600; round++) {
      const waiting = users.filter((u) => !admittedRound.has(u.ticket));
      await Promise.all(
        waiting.map(async (u) => {
          const s = await client.call('GET', '/api/v1/queue/status', { headers: { 'queue-token': u.token } });
          if (s.body.status === 'ACTIVE') {
            admittedRound.set(u.ticket, round);
            await client.call('DELETE', '/api/v1/queue/tokens/current', {
              headers: { 'queue-token': u.token },
            });
          }
        }),
      );
      await sleep(200);
    }
    // In drawn order, the round a user was first seen ACTIVE never goes back by more than one
    // (a round's reads are spread over its duration, so neighbours may straddle two rounds).
    const rounds = [...draw.tickets].map((t: number) => admittedRound.get(t) ?? Number.POSITIVE_INFINITY);
    let latest = 0;
    let outOfOrder = 0;
    for (const r of rounds) {
      if (r < latest - 1) outOfOrder++;
      latest = Math.max(latest, r);
    }
    // The operator's charts: a sample every 5 s; wait for one taken after the admissions.
    type Point = { waiting: number; admittedPerSecond: number };
    let samples: Point[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await client.call('GET', `/api/v1/admin/concerts/${concertId}/samples`, { headers: admin });
      samples = res.body.samples as Point[];
      if (samples.some((s) => s.admittedPerSecond > 0)) break;
      await sleep(500);
    }

    const checks: Check[] = [
      {
        name: 'every join went to the pre-queue',
        ok: users.every((u) => u.status === 201 && u.position === null),
      },
      {
        name: 'the seed matches its commitment',
        ok: createHash('sha256').update(Buffer.from(draw.seed, 'hex')).digest('hex') === commitment,
      },
      {
        name: 'the published order is the verifier’s',
        ok: JSON.stringify(verified) === JSON.stringify(draw.tickets),
        detail: `${draw.tickets.length} tickets`,
      },
      {
        name: 'each place read after the opening is the drawn one',
        ok: places.every((p, i) => p.position === rank.get(users[i]!.ticket)),
      },
      {
        name: 'everyone admitted',
        ok: admittedRound.size === users.length,
        detail: `${admittedRound.size}/${users.length}`,
      },
      { name: 'admitted in drawn order', ok: outOfOrder === 0, detail: `${outOfOrder} out of order` },
      {
        name: 'the operator’s samples moved',
        ok:
          samples.length >= 2 &&
          samples.some((s) => s.waiting > 0) &&
          samples.some((s) => s.admittedPerSecond > 0),
        detail: `${samples.length} samples; admitted/s ${samples.map((s) => s.admittedPerSecond).join(' ')}; waiting ${samples.map((s) => s.waiting).join(' ')}`,
      },
    ];
    return {
      name: 'sale-day',
      unit: 'users/s',
      load: {
        requests: users.length * 2,
        seconds: fillSeconds,
        // Users into the pre-queue per second (a sign-up and a join each); latencies are the joins'.
        perSecond: users.length / fillSeconds,
        latencyMs: summarize(joinLatencies),
        counts: client.tally.snapshot().byStatus ?? {},
        socketErrors: {},
        serverCpuPerCore: fillCpu / fillSeconds,
      },
      ceiling: null,
      checks,
      facts: {
        users: shape.users,
        instances,
        opensInSeconds: shape.opensInMs / 1000,
        firstPlacesReadSeconds: readSeconds,
        admissionRounds: Math.max(...admittedRound.values()) + 1,
        settings: SETTINGS,
      },
    };
  } finally {
    await own.stop(concertId ? [concertId] : []);
  }
};
