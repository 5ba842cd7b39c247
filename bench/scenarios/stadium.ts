import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import pg from 'pg';
import type { QueueStatus, SeatMap } from '../../harness/api-types.js';
import type { HttpResponse } from '../../harness/http.js';
import { Api, type BenchUser, mapLimit, signedUsers } from '../lib/api.js';
import { cpuSeconds } from '../lib/machine.js';
import { startOwnCluster } from '../lib/own-cluster.js';
import { createSeatedConcert, getCompressedJson, type PlannedSection, uniformPlan } from '../lib/seating.js';
import { REDIS_URL } from '../lib/servers.js';
import { summarize } from '../lib/stats.js';
import type { Check, Scenario, ScenarioResult } from './scenario.js';

/**
 * The stadium (issue 17 item 7): one show of 50,000 seats in sections of 2,000 with price
 * grades, a line of 100,000 users on two instances (PostgreSQL + Redis), admitted at the rate
 * the operator sets (admin PATCH …/queue), each buying 1–4 seats and paying for them in one
 * payment, until sold out; then every invariant is checked in the database.
 *
 * - Users exist before the sale, each with one charge of 1,000,000 won: in cluster mode they are
 *   written in bulk by SQL (user, wallet, one CHARGE ledger row: the ledger sums to the balance),
 *   since 100,000 sign-ups and charges through the API would take minutes and are not what this
 *   measures; their access tokens are signed with the run's AUTH_SECRET. The sale itself is all API.
 * - The line is paused while everyone joins (so the line holds all 100,000 in join order), then
 *   the operator resumes it: the clock starts.
 * - A waiting user polls its status about twice per halving of its estimated wait (a browser on
 *   the event stream would be told; 100,000 pollers at a fixed period would be the bench's own
 *   load, not the sale's), every 0.5 s near the front; QUEUE_IDLE_TIMEOUT_SECONDS is long enough
 *   that nobody is dropped for it.
 * - Once ACTIVE, even-numbered users buy by best available: they read the venue at a glance
 *   (GET …/sections), ask for the best N in their preferred grade, then in other grades with
 *   seats left, then anywhere, and at the end for fewer seats. Odd-numbered users choose in a
 *   popular section (the VIP sections while they last): they read its seat map (br), pick N free
 *   seats side by side near the front at random, and on 409 drop the seats it names and pick
 *   again, re-reading the map after a few conflicts. Both pay all their holds in one payment.
 * - Refused holds per seat sold are counted per kind of buyer (target ≤ 0.2 for best available).
 */
const SETTINGS = {
  QUEUE_ACTIVE_TTL_SECONDS: 300,
  QUEUE_IDLE_TIMEOUT_SECONDS: 3_600,
  MAX_HOLDS_PER_USER: 4,
};
/**
 * The operator's line: 150 admitted per second with at most 600 shopping at once. A buyer
 * needs 3–5 requests over a second or two, so this keeps ~200 buyers/s of work in flight on
 * two instances of this 2-core machine without letting the active set grow without bound.
 */
const FULL = {
  users: 100_000,
  seats: 50_000,
  admitPerSecond: 150,
  maxActive: 600,
  holdTtlSeconds: 60,
  timeLimitMs: 20 * 60_000,
};
/**
 * Small enough for CI; holds lapse sooner, so a seat whose hold answer was lost (a 503 after
 * the commit, pressed again) comes back within the sale.
 */
const SMOKE = {
  users: 1_000,
  seats: 2_000,
  admitPerSecond: 200,
  maxActive: 200,
  holdTtlSeconds: 15,
  timeLimitMs: 150_000,
};
const BALANCE = 1_000_000;
const IN_FLIGHT = 256;
const SEATS_PER_ROW = 50;
/** The popular sections: the first few of the plan (the VIP front). */
const POPULAR = 3;
/**
 * Runs a chooser picks among, front first. 20 gave 12 refused holds per seat sold with 600
 * choosing at once from maps seconds old on this busy machine; 100 is a buyer who looks further back.
 */
const CHOICES = 100;
/** Conflicts on one map before reading it again. */
const CONFLICTS_BEFORE_REREAD = 3;
/** Leave the active window this early: a payment must not race the token's end. */
const WINDOW_MARGIN_MS = 5_000;

type Step = 'join' | 'status' | 'sections' | 'seatmap' | 'hold-best' | 'hold-seats' | 'pay';
type Kind = 'best' | 'choose';

interface Section {
  section: string;
  grade: string;
  price: number;
  totalSeats: number;
  availableSeats: number;
}

interface Buyer {
  index: number;
  user: BenchUser;
  kind: Kind;
  quantity: number;
  ticket: number;
  position: number;
  admittedAt: number | null;
  outcome: 'WAITING' | 'BOUGHT' | 'SOLD_OUT' | 'EXPIRED' | 'TIMED_OUT' | 'FAILED';
  error?: string;
  payment?: { paymentId: string; amount: number; seats: number };
}

/** A plan of sections of 2,000 seats (40 rows × 50), at least four, for about `seats` seats. */
function stadiumPlan(seats: number): PlannedSection[] {
  const count = Math.max(4, Math.round(seats / 2_000));
  const rows = Math.max(1, Math.floor(seats / count / SEATS_PER_ROW));
  return uniformPlan(count, rows, SEATS_PER_ROW);
}

/** A small deterministic mix (1–4 seats, a preferred grade) from the user's index. */
function mix(index: number, salt: number): number {
  let x = (index + 1) * 2_654_435_761 + salt * 40_503;
  x = (x ^ (x >>> 15)) >>> 0;
  return x;
}

export const stadium: Scenario = async (ctx) => {
  const base = ctx.smoke ? SMOKE : FULL;
  const shape = {
    ...base,
    users: (ctx.shared.get('stadiumUsers') as number | undefined) ?? base.users,
    seats: (ctx.shared.get('stadiumSeats') as number | undefined) ?? base.seats,
  };
  const embedded = !ctx.cluster.databaseUrl;
  ctx.progress(`stadium: starting ${embedded ? 1 : 2} instance(s) of its own`);
  // Redis database 11, not the shared 0: every instance on this Redis with the default key
  // prefix runs an admission ticker over every line registered there, with its own settings
  // (a neighbour's rush with a 30 s active TTL admitted this line's users with 30 s windows).
  const own = await startOwnCluster(
    ctx,
    'stadium',
    { ...SETTINGS, HOLD_TTL_SECONDS: shape.holdTtlSeconds },
    IN_FLIGHT,
    embedded ? 1 : 2,
    `${REDIS_URL}/11`,
  );
  const { client, pids, databaseUrl } = own;
  const api = new Api(own.cluster.urls, ctx.api.adminKey);
  let concertId: string | undefined;
  try {
    const plan = stadiumPlan(shape.seats);
    const concert = await createSeatedConcert(api, 1, plan, 'bench stadium');
    concertId = concert.concertId;
    const date = concert.dates[0]!;
    const total = concert.totalSeats;
    const admin = { 'admin-key': ctx.api.adminKey };
    const queuePath = `/api/v1/admin/concerts/${concertId}/queue`;
    // The operator closes the line until everyone is in it, and sets the admission rate.
    await api.setQueue(concertId, {
      paused: true,
      maxActive: shape.maxActive,
      admitPerSecond: shape.admitPerSecond,
    });

    ctx.progress(`stadium: ${shape.users} users with ${BALANCE} won each`);
    let users: BenchUser[];
    if (databaseUrl) {
      users = signedUsers(ctx.authSecret, shape.users);
      await fundUsers(databaseUrl, users);
    } else {
      users = await api.createUsers(shape.users, 64);
      await api.charge(users, BALANCE);
    }

    const latencies: Record<Step, number[]> = {
      join: [],
      status: [],
      sections: [],
      seatmap: [],
      'hold-best': [],
      'hold-seats': [],
      pay: [],
    };
    const unexpected: string[] = [];
    // The sale: every user at once, each a promise that sleeps until its turn comes near.
    let sold = 0;
    let soldOutAt: number | null = null;
    let over = false;
    // Sleepers, woken at once when the sale ends (sold out or out of time).
    const sleepers = new Set<() => void>();
    const finish = () => {
      over = true;
      for (const wake of sleepers) wake();
      sleepers.clear();
    };
    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        if (over) return resolve();
        const wake = () => {
          clearTimeout(timer);
          sleepers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        sleepers.add(wake);
      });
    const call = async (
      step: Step,
      method: string,
      path: string,
      route: string,
      options: { body?: unknown; headers?: Record<string, string> } = {},
    ): Promise<HttpResponse> => {
      for (let attempt = 1; ; attempt++) {
        const started = performance.now();
        const res = await client.call(method, path, { route, ...options });
        latencies[step].push(performance.now() - started);
        // API.md's 503 UNAVAILABLE: the store did not answer in time, nothing was done; a
        // buyer presses again, as long as the sale lasts (the client already retries reads and
        // keyed writes a few times itself). Every 503 is counted in the report.
        if (res.status === 503 && !over && attempt < 40) {
          await pause(250 * Math.min(attempt, 8));
          continue;
        }
        return res;
      }
    };

    ctx.progress(`stadium: ${shape.users} users join the paused line`);
    const joinStart = Date.now();
    const buyers: Buyer[] = await mapLimit(users, 128, async (user, index) => {
      const res = await call('join', 'POST', '/api/v1/queue/tokens', 'POST /api/v1/queue/tokens', {
        headers: { authorization: `Bearer ${user.accessToken}` },
        body: { concertId },
      });
      // 200: the user's token already existed (a join pressed again after a 503 that had been done).
      if (res.status !== 201 && res.status !== 200)
        throw new Error(`join: ${res.status} ${JSON.stringify(res.body)}`);
      const body = res.body as QueueStatus;
      user.queueToken = body.token;
      return {
        index,
        user,
        kind: index % 2 === 0 ? 'best' : 'choose',
        quantity: 1 + (mix(index, 1) % 4),
        ticket: body.ticket,
        position: body.position ?? index + 1,
        admittedAt: null,
        outcome: 'WAITING',
      } satisfies Buyer;
    });
    const joinSeconds = (Date.now() - joinStart) / 1000;

    const refused: Record<Kind, number> = { best: 0, choose: 0 };
    const seatsBought: Record<Kind, number> = { best: 0, choose: 0 };
    const holdsAsked: Record<Kind, number> = { best: 0, choose: 0 };
    const gradesInPlan = [...new Set(plan.map((s) => s.grade))];

    // The section maps are read compressed, as a browser reads them, over keep-alive sockets of
    // their own (the harness's client does not decode bodies); counted with the client's answers.
    const mapAgent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    const mapAnswers: Record<string, number> = {};
    let mapBytes = 0;
    const readSectionMap = async (b: Buyer, section: string) => {
      const url = own.cluster.urls[Math.floor(Math.random() * own.cluster.urls.length)]!;
      for (let attempt = 1; ; attempt++) {
        const started = performance.now();
        const res = await getCompressedJson<SeatMap>(
          mapAgent,
          `${url}/api/v1/concerts/${concertId}/dates/${date}/seats?section=${section}`,
          gatedOf(b),
        ).catch((error: Error) => ({ status: 0, code: `ERR ${error.message}`, body: null, bytes: 0 }));
        latencies.seatmap.push(performance.now() - started);
        const key = res.code ? `${res.status} ${res.code}` : String(res.status);
        mapAnswers[key] = (mapAnswers[key] ?? 0) + 1;
        mapBytes += res.bytes;
        // A read is safe to send again: a dropped socket or a 503 is retried, as the client does.
        if ((res.status === 0 || res.status === 503) && !over && attempt < 40) {
          await pause(250 * Math.min(attempt, 8));
          continue;
        }
        return res as unknown as HttpResponse;
      }
    };

    const readSections = async (b: Buyer) => {
      const res = await call(
        'sections',
        'GET',
        `/api/v1/concerts/${concertId}/dates/${date}/sections`,
        'GET …/sections',
        { headers: gatedOf(b) },
      );
      return res.status === 200 ? (res.body as Section[]) : res;
    };

    /** One hold of `quantity` seats by best available; the reservations, or null when refused. */
    const holdBest = async (b: Buyer, quantity: number, where: { grade?: string }) => {
      holdsAsked.best++;
      const res = await call(
        'hold-best',
        'POST',
        '/api/v1/reservations',
        'POST /api/v1/reservations (best)',
        {
          headers: gatedOf(b),
          body: { concertId, date, quantity, ...where },
        },
      );
      if (res.status === 201) return res.body.reservations as { reservationId: string }[];
      if (res.status === 409 && res.code === 'SEAT_UNAVAILABLE') {
        refused.best++;
        return null;
      }
      return res;
    };

    const shopBest = async (b: Buyer, deadline: number) => {
      let want = b.quantity;
      const preferred = gradesInPlan[mix(b.index, 2) % gradesInPlan.length]!;
      while (!over && Date.now() < deadline) {
        const venue = await readSections(b);
        if (!Array.isArray(venue)) return venue;
        const left = new Map<string, number>();
        for (const s of venue) left.set(s.grade, (left.get(s.grade) ?? 0) + s.availableSeats);
        const anyLeft = [...left.values()].reduce((a, n) => a + n, 0);
        if (anyLeft === 0) {
          // Nothing free now; seats held by others may still lapse or be paid.
          await pause(1_000);
          continue;
        }
        want = Math.min(want, anyLeft);
        const grades = [preferred, ...gradesInPlan.filter((g) => g !== preferred)].filter(
          (g) => (left.get(g) ?? 0) >= want,
        );
        for (const grade of grades) {
          const held = await holdBest(b, want, { grade });
          if (held !== null) return held;
        }
        const anywhere = await holdBest(b, want, {});
        if (anywhere !== null) return anywhere;
        // No N side by side anywhere: a buyer takes fewer rather than none.
        if (want > 1) want--;
        else await pause(500);
      }
      return null;
    };

    const shopChoose = async (b: Buyer, deadline: number) => {
      let want = b.quantity;
      while (!over && Date.now() < deadline) {
        const venue = await readSections(b);
        if (!Array.isArray(venue)) return venue;
        const withRoom = venue.filter((s) => s.availableSeats >= want);
        if (withRoom.length === 0) {
          const most = Math.max(0, ...venue.map((s) => s.availableSeats));
          if (most === 0) {
            await pause(1_000);
            continue;
          }
          want = most;
          continue;
        }
        const popular = withRoom.filter((s) => venue.indexOf(s) < POPULAR);
        const pickFrom = (popular.length > 0 ? popular : withRoom).slice(0, POPULAR);
        const section = pickFrom[Math.floor(Math.random() * pickFrom.length)]!;
        const res = await readSectionMap(b, section.section);
        if (res.status !== 200) return res;
        const free = (res.body as SeatMap).seats.filter((s) => s.status === 'AVAILABLE');
        for (let conflicts = 0; conflicts < CONFLICTS_BEFORE_REREAD && !over; conflicts++) {
          const seats = pickSeats(free, want);
          if (!seats) {
            // Fewer free seats on this map than wanted: look at the venue again shortly.
            await pause(200);
            break;
          }
          holdsAsked.choose++;
          const held = await call(
            'hold-seats',
            'POST',
            '/api/v1/reservations',
            'POST /api/v1/reservations (seats)',
            {
              headers: gatedOf(b),
              body: { concertId, date, seatNumbers: seats },
            },
          );
          if (held.status === 201) return held.body.reservations as { reservationId: string }[];
          if (held.status !== 409 || held.code !== 'SEAT_UNAVAILABLE') return held;
          refused.choose++;
          const gone = new Set<number>(held.body.unavailableSeats ?? seats);
          for (let i = free.length - 1; i >= 0; i--) if (gone.has(free[i]!.seatNumber)) free.splice(i, 1);
        }
      }
      return null;
    };

    const pay = async (b: Buyer, reservations: { reservationId: string }[]) => {
      const res = await call('pay', 'POST', '/api/v1/payments', 'POST /api/v1/payments', {
        headers: { ...gatedOf(b), 'idempotency-key': randomUUID() },
        body: { reservationIds: reservations.map((r) => r.reservationId) },
      });
      if (res.status !== 201) return res;
      b.payment = { paymentId: res.body.paymentId, amount: res.body.amount, seats: reservations.length };
      seatsBought[b.kind] += reservations.length;
      sold += reservations.length;
      if (sold >= total && soldOutAt === null) {
        soldOutAt = Date.now();
        finish();
      }
      return null;
    };

    const waitTurn = async (b: Buyer, saleStart: number): Promise<boolean> => {
      // First look: halfway to when the line's rate would reach this place.
      await pause(Math.max(0, (b.position / shape.admitPerSecond) * 500 - (Date.now() - saleStart)));
      while (!over) {
        const res = await call('status', 'GET', '/api/v1/queue/status', 'GET /api/v1/queue/status', {
          headers: gatedOf(b),
        });
        if (res.status !== 200) throw new Error(`status: ${res.status} ${JSON.stringify(res.body)}`);
        const s = res.body as QueueStatus;
        if (s.status === 'ACTIVE') {
          b.admittedAt = Date.parse(s.activeUntil!) - SETTINGS.QUEUE_ACTIVE_TTL_SECONDS * 1000;
          return true;
        }
        if (s.status === 'EXPIRED') {
          b.outcome = 'EXPIRED';
          return false;
        }
        const estimateMs = (s.estimatedWaitSeconds ?? (s.position ?? 0) / shape.admitPerSecond) * 1000;
        await pause(Math.max(500, estimateMs / 2) * (0.8 + Math.random() * 0.4));
      }
      return false;
    };

    const journey = async (b: Buyer, saleStart: number) => {
      try {
        if (!(await waitTurn(b, saleStart))) {
          if (b.outcome === 'WAITING') b.outcome = soldOutAt !== null ? 'SOLD_OUT' : 'TIMED_OUT';
          return;
        }
        const deadline = b.admittedAt! + SETTINGS.QUEUE_ACTIVE_TTL_SECONDS * 1000 - WINDOW_MARGIN_MS;
        while (!over && Date.now() < deadline) {
          const held = b.kind === 'best' ? await shopBest(b, deadline) : await shopChoose(b, deadline);
          if (held === null) break;
          if (!Array.isArray(held)) {
            if (held.status === 401 && held.code === 'QUEUE_TOKEN_EXPIRED') {
              b.outcome = 'EXPIRED';
              return;
            }
            unexpected.push(`user ${b.index}: ${held.status} ${held.code ?? JSON.stringify(held.body)}`);
            b.outcome = 'FAILED';
            return;
          }
          const refusal = await pay(b, held);
          if (refusal === null) {
            b.outcome = 'BOUGHT';
            return;
          }
          unexpected.push(
            `user ${b.index} pay: ${refusal.status} ${refusal.code ?? JSON.stringify(refusal.body)}`,
          );
          b.outcome = 'FAILED';
          return;
        }
        b.outcome = soldOutAt !== null ? 'SOLD_OUT' : 'TIMED_OUT';
      } catch (error) {
        b.outcome = 'FAILED';
        b.error = error instanceof Error ? error.message : String(error);
      }
    };

    const cpuBefore = cpuSeconds(pids);
    ctx.progress(
      `stadium: the operator opens the line (${shape.admitPerSecond}/s, at most ${shape.maxActive} active)`,
    );
    const saleStart = Date.now();
    await client.call('PATCH', queuePath, { headers: admin, body: { paused: false }, retryable: true });
    const limit = setTimeout(finish, shape.timeLimitMs);
    const ticker = setInterval(() => {
      const admitted = buyers.filter((b) => b.admittedAt !== null).length;
      ctx.progress(
        `stadium: ${Math.round((Date.now() - saleStart) / 1000)} s, ${sold}/${total} sold, ${admitted} admitted`,
      );
    }, 5_000);
    try {
      await Promise.all(buyers.map((b) => journey(b, saleStart)));
    } finally {
      clearTimeout(limit);
      clearInterval(ticker);
    }
    const saleSeconds = (Date.now() - saleStart) / 1000;
    const serverCpu = cpuSeconds(pids) - cpuBefore;

    ctx.progress('stadium: checking the invariants');
    const checks: Check[] = [];
    checks.push({ name: 'sold out', ok: soldOutAt !== null && sold === total, detail: `${sold}/${total}` });
    mapAgent.destroy();
    const tally = client.tally.snapshot();
    for (const [key, n] of Object.entries(mapAnswers)) tally.byStatus[key] = (tally.byStatus[key] ?? 0) + n;
    tally.total += Object.values(mapAnswers).reduce((a, n) => a + n, 0);
    const faults = Object.entries(tally.byStatus).filter(([k]) => k.startsWith('5') && !k.startsWith('503'));
    const unavailable = Object.entries(tally.byStatus)
      .filter(([k]) => k.startsWith('503'))
      .reduce((n, [, c]) => n + c, 0);
    checks.push({
      name: 'no 5xx (503 UNAVAILABLE is retried and counted)',
      ok: faults.length === 0,
      detail: `${faults.map(([k, n]) => `${n} × ${k}`).join(', ') || 'none'}; ${unavailable} × 503`,
    });
    const failed = buyers.filter((b) => b.outcome === 'FAILED');
    checks.push({
      name: 'no answer outside API.md (every buyer bought, or found it sold out)',
      ok: failed.length === 0 && unexpected.length === 0,
      detail: `${failed.length} failed${failed[0]?.error ? ` (${failed[0].error})` : ''}; ${unexpected.slice(0, 3).join('; ')}`,
    });
    checks.push(fifo(buyers));
    if (databaseUrl) checks.push(...(await sqlChecks(databaseUrl, concertId, total, buyers)));

    const steps = Object.fromEntries(
      Object.entries(latencies).map(([step, list]) => {
        const s = summarize(list);
        return [step, { n: list.length, p50: round(s.p50), p99: round(s.p99), max: round(s.max) }];
      }),
    );
    const buying = Object.entries(latencies)
      .filter(([step]) => step !== 'join' && step !== 'status')
      .flatMap(([, list]) => list);
    const sellOutSeconds = soldOutAt === null ? null : (soldOutAt - saleStart) / 1000;
    const perSeat = (k: Kind) => (seatsBought[k] > 0 ? refused[k] / seatsBought[k] : Number.NaN);
    // The issue's target, checked at full size only: in the smoke's 2,000 seats the last,
    // scattered seats weigh so much that it moved between 0.04 and 0.23 from run to run.
    if (!ctx.smoke)
      checks.push({
        name: 'best available: ≤ 0.2 refused holds per seat sold',
        ok: perSeat('best') <= 0.2,
        detail: `${refused.best} refused for ${seatsBought.best} seats = ${perSeat('best').toFixed(3)}`,
      });
    const outcomes: Record<string, number> = {};
    for (const b of buyers) outcomes[b.outcome] = (outcomes[b.outcome] ?? 0) + 1;
    const result: ScenarioResult = {
      name: 'stadium',
      unit: 'seats/s',
      load: {
        requests: tally.total,
        seconds: saleSeconds,
        perSecond: sellOutSeconds ? sold / sellOutSeconds : sold / saleSeconds,
        latencyMs: summarize(buying),
        counts: tally.byStatus,
        socketErrors: {},
        serverCpuPerCore: serverCpu / saleSeconds,
      },
      ceiling: null,
      checks,
      facts: {
        users: shape.users,
        seats: total,
        sections: plan.length,
        instances: own.cluster.urls.length,
        admitPerSecond: shape.admitPerSecond,
        maxActive: shape.maxActive,
        holdTtlSeconds: shape.holdTtlSeconds,
        joinSeconds: round(joinSeconds),
        sellOutSeconds: sellOutSeconds === null ? null : round(sellOutSeconds),
        sold,
        admitted: buyers.filter((b) => b.admittedAt !== null).length,
        buyers: buyers.filter((b) => b.outcome === 'BOUGHT').length,
        outcomes,
        refusedPerSeatSold: { best: round(perSeat('best'), 3), choose: round(perSeat('choose'), 3) },
        refused,
        holdsAsked,
        seatsBought,
        steps,
        requestsPerSecond: Math.round(tally.total / saleSeconds),
        sectionMapBytesOnWire:
          latencies.seatmap.length > 0 ? Math.round(mapBytes / latencies.seatmap.length) : null,
        ...(databaseUrl ? {} : { sqlChecks: 'not run: the embedded database is not reachable from outside' }),
      },
    };
    return result;
  } finally {
    await own.stop(concertId ? [concertId] : []);
  }
};

function gatedOf(b: Buyer): Record<string, string> {
  return { authorization: `Bearer ${b.user.accessToken}`, 'queue-token': b.user.queueToken! };
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * `want` free seats side by side in one row, a random run among the front-most CHOICES (everyone
 * wants the front, so choosers collide as they would); else any `want` free seats of the section.
 */
function pickSeats(free: SeatMap['seats'], want: number): number[] | null {
  if (free.length < want) return null;
  const runs: number[][] = [];
  let run: SeatMap['seats'] = [];
  for (const seat of free) {
    const last = run[run.length - 1];
    run = last && last.row === seat.row && last.number + 1 === seat.number ? [...run, seat] : [seat];
    if (run.length >= want) runs.push(run.slice(-want).map((s) => s.seatNumber));
    if (runs.length >= CHOICES) break;
  }
  if (runs.length > 0) return runs[Math.floor(Math.random() * runs.length)]!;
  return free.slice(0, want).map((s) => s.seatNumber);
}

/** Users and their one charge, written in bulk: the ledger sums to the balance, as a charge leaves it. */
async function fundUsers(databaseUrl: string, users: BenchUser[]): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    for (let i = 0; i < users.length; i += 20_000) {
      const ids = users.slice(i, i + 20_000).map((u) => u.userId);
      await db.query(
        `WITH u AS (SELECT unnest($1::uuid[]) AS id),
              a AS (INSERT INTO users (id, name, created_at) SELECT id, 'stadium', now() FROM u RETURNING id),
              w AS (INSERT INTO wallets (user_id, balance) SELECT id, $2 FROM a RETURNING user_id)
         INSERT INTO wallet_transactions (id, user_id, type, amount, balance_after, created_at)
           SELECT gen_random_uuid(), user_id, 'CHARGE', $2, $2, now() FROM w`,
        [ids, BALANCE],
      );
    }
  } finally {
    await db.end();
  }
}

/** FIFO admission: in ticket order, nobody was admitted before someone who joined earlier. */
function fifo(buyers: Buyer[]): Check {
  const admitted = buyers.filter((b) => b.admittedAt !== null).sort((a, b) => a.ticket - b.ticket);
  let latest: Buyer | undefined;
  let inversions = 0;
  let worst = 0;
  for (const b of admitted) {
    if (latest && b.admittedAt! < latest.admittedAt!) {
      inversions++;
      worst = Math.max(worst, latest.admittedAt! - b.admittedAt!);
    } else latest = b;
  }
  const tickets = new Set(buyers.map((b) => b.ticket));
  return {
    name: 'FIFO admission (admitted in ticket order)',
    ok: inversions === 0 && tickets.size === buyers.length,
    detail: `${admitted.length} admitted, ${inversions} admitted before an earlier ticket (worst ${worst} ms), ${buyers.length - tickets.size} tickets issued twice`,
  };
}

/** The invariants, read straight from PostgreSQL. */
async function sqlChecks(
  databaseUrl: string,
  concertId: string,
  total: number,
  buyers: Buyer[],
): Promise<Check[]> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const one = async <T>(text: string, values: unknown[] = []) => (await db.query(text, values)).rows[0] as T;
  try {
    const checks: Check[] = [];
    const seats = await one<{ sold: number; bad: number }>(
      `SELECT count(*) FILTER (WHERE s.sold)::int AS sold,
              count(*) FILTER (WHERE s.sold AND (r.id IS NULL OR r.status <> 'CONFIRMED'
                                 OR r.seat_number <> s.seat_number OR r.show_id <> s.show_id))::int AS bad
         FROM seats s JOIN shows sh ON sh.id = s.show_id
         LEFT JOIN reservations r ON r.id = s.reservation_id
        WHERE sh.concert_id = $1`,
      [concertId],
    );
    const twice = await one<{ n: number; confirmed: number }>(
      `SELECT (SELECT count(*) FROM (SELECT 1 FROM reservations WHERE concert_id = $1 AND status = 'CONFIRMED'
                GROUP BY show_id, seat_number HAVING count(*) > 1) x)::int AS n,
              (SELECT count(*) FROM reservations WHERE concert_id = $1 AND status = 'CONFIRMED')::int AS confirmed`,
      [concertId],
    );
    checks.push({
      name: 'SQL: no seat sold twice; every seat SOLD to the CONFIRMED reservation it carries',
      ok: seats.sold === total && seats.bad === 0 && twice.n === 0 && twice.confirmed === total,
      detail: `${seats.sold}/${total} sold, ${seats.bad} carrying a wrong reservation, ${twice.n} seats in two CONFIRMED reservations, ${twice.confirmed} CONFIRMED`,
    });
    const money = await one<{
      revenue: string;
      seat_prices: string;
      confirmed_prices: string;
      payments: number;
      mismatched: number;
      ledger_paid: string;
      ledger_rows: number;
    }>(
      `WITH p AS (SELECT * FROM payments WHERE concert_id = $1)
       SELECT (SELECT coalesce(sum(amount), 0) FROM p)::text AS revenue,
              (SELECT coalesce(sum(s.price), 0) FROM seats s JOIN shows sh ON sh.id = s.show_id
                WHERE sh.concert_id = $1 AND s.sold)::text AS seat_prices,
              (SELECT coalesce(sum(price), 0) FROM reservations
                WHERE concert_id = $1 AND status = 'CONFIRMED')::text AS confirmed_prices,
              (SELECT count(*) FROM p)::int AS payments,
              (SELECT count(*) FROM p WHERE p.amount <> (SELECT coalesce(sum(r.price), 0) FROM reservations r
                WHERE r.payment_id = p.id))::int AS mismatched,
              (SELECT coalesce(-sum(t.amount), 0) FROM wallet_transactions t
                WHERE t.type = 'PAYMENT' AND t.user_id IN (SELECT user_id FROM p))::text AS ledger_paid,
              (SELECT count(*) FROM wallet_transactions t
                WHERE t.type = 'PAYMENT' AND t.user_id IN (SELECT user_id FROM p))::int AS ledger_rows`,
      [concertId],
    );
    const confirmedToBuyers = buyers.filter((b) => b.payment);
    const paidToBuyers = confirmedToBuyers.reduce((n, b) => n + b.payment!.amount, 0);
    const stored = new Set(
      (await db.query<{ id: string }>('SELECT id FROM payments WHERE concert_id = $1', [concertId])).rows.map(
        (r) => r.id,
      ),
    );
    const missing = confirmedToBuyers.filter((b) => !stored.has(b.payment!.paymentId)).length;
    checks.push({
      name: 'SQL: revenue = sold seat prices = payments confirmed to buyers; each payment = its seats; one PAYMENT entry each',
      ok:
        money.revenue === money.seat_prices &&
        money.revenue === money.confirmed_prices &&
        Number(money.revenue) === paidToBuyers &&
        money.payments === confirmedToBuyers.length &&
        missing === 0 &&
        money.mismatched === 0 &&
        money.ledger_paid === money.revenue &&
        money.ledger_rows === money.payments,
      detail: `revenue ${money.revenue}, sold seat prices ${money.seat_prices}, CONFIRMED prices ${money.confirmed_prices}, confirmed to buyers ${paidToBuyers} in ${confirmedToBuyers.length} payments (${money.payments} stored, ${missing} missing), ${money.mismatched} payments ≠ their seats, PAYMENT entries ${money.ledger_rows} of ${money.ledger_paid}`,
    });
    const wallets = await one<{ drift: number; users: number; off: number }>(
      `SELECT (SELECT count(*) FROM wallets w WHERE w.balance <>
                 (SELECT coalesce(sum(amount), 0) FROM wallet_transactions t WHERE t.user_id = w.user_id))::int AS drift,
              (SELECT count(*) FROM wallets)::int AS users,
              (SELECT count(*) FROM wallets w WHERE w.balance <> $1 - coalesce(
                 (SELECT sum(p.amount) FROM payments p WHERE p.user_id = w.user_id), 0))::int AS off`,
      [BALANCE],
    );
    checks.push({
      name: 'SQL: every balance equals its history sum, and its charge less its payments',
      ok: wallets.drift === 0 && wallets.off === 0,
      detail: `${wallets.users} wallets, ${wallets.drift} differ from their ledger, ${wallets.off} ≠ charge − payments`,
    });
    return checks;
  } finally {
    await db.end();
  }
}
