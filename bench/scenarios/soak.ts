import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ClusterClient } from '../../harness/http.js';
import { runSale } from '../../harness/sale.js';
import { startService } from '../../harness/service.js';
import { RedisServer } from '../../harness/stores.js';
import { Api, type BenchUser, mapLimit, signedUsers } from '../lib/api.js';
import { cpuSeconds } from '../lib/machine.js';
import { PG_ADMIN_URL } from '../lib/servers.js';
import type { Check, Scenario, ScenarioResult } from './scenario.js';

/**
 * No leak over time (issue 19 item 6). Two instances of the soak's own (a scratch PostgreSQL
 * database and a redis-server of its own, so that nobody else's keys move its Redis memory)
 * serve round after round, for `--minutes` (default 30; one with --smoke):
 * - a line opens with 2,000 waiters (signed tokens), each holding an event stream open on it
 *   (paused, so they wait and get heartbeats), and at the round's end they all leave: the line
 *   drains and its streams close;
 * - meanwhile a sale on another concert: buyers sign up, charge, join, poll, hold, pay until
 *   sold out, the others leave (harness/sale.ts, the cluster test's driver).
 * Every 30 s (5 s in the smoke) it samples each instance's RSS and open descriptors
 * (/proc/<pid>), heap and event-loop lag (bench/lib/soak-probe.mjs, loaded into each instance),
 * the database's connections (pg_stat_activity) and Redis used_memory. After warm-up none may
 * trend upward: the least-squares slope of each series under 1 % of its mean per 10 minutes
 * (or under its resolution, for the small integer series); and once the last lines have drained
 * Redis memory must return to what it was before the first round.
 *
 * A one-minute smoke has too few points after warm-up for a slope to mean anything: it prints
 * the slopes but checks only that the rounds ran clean and Redis memory came back.
 */

const SETTINGS = {
  QUEUE_MAX_ACTIVE: 50,
  QUEUE_ADMIT_PER_SECOND: 100,
  QUEUE_ACTIVE_TTL_SECONDS: 30,
  HOLD_TTL_SECONDS: 10,
  QUEUE_IDLE_TIMEOUT_SECONDS: 30,
  MAX_HOLDS_PER_USER: 4,
};
const FULL = { streams: 2_000, buyers: 100, seats: 50, roundMs: 30_000, sampleMs: 30_000 };
const SMOKE = { streams: 500, buyers: 60, seats: 20, roundMs: 15_000, sampleMs: 5_000 };
const INSTANCES = 2;
const IN_FLIGHT = 128;
/** Allowed upward trend: 1 % of the series' mean per 10 minutes, or these absolute floors. */
const SLOPE_LIMIT_PERCENT = 1;
const FLOORS: Record<string, number> = { lagP99Ms: 2, fds: 1, pgConnections: 1 };
/**
 * Redis "back to baseline": its dataset (used_memory less the server's own overhead: client
 * buffers, the script cache, the AOF buffer) within this of what it was before the first round.
 * A concert's line settings and counters stay by design, a few hundred bytes per concert.
 */
const REDIS_RETURN_BYTES = 64 * 1024;

interface Sample {
  at: number;
  rssMb: number[];
  heapMb: number[];
  lagP99Ms: number[];
  fds: number[];
  pgConnections: number;
  redisUsedBytes: number;
  /** Taken at a round's end, once its streams closed and its waiters left (else by the timer). */
  roundEnd: boolean;
}

function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return kb / 1024;
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function probeOf(dir: string, pid: number): { heapFloor: number; lagP99Ms: number } {
  try {
    return JSON.parse(readFileSync(join(dir, `${pid}.json`), 'utf8'));
  } catch {
    return { heapFloor: Number.NaN, lagP99Ms: Number.NaN };
  }
}

/** What is left in Redis, by kind of key (the part after the concert's hash tag). */
async function keyKinds(redis: Redis): Promise<Record<string, number>> {
  const kinds: Record<string, number> = {};
  for (const key of await redis.keys('*')) {
    const kind = key.replace(/\{[^}]*\}/, '{…}');
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

async function redisUsed(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? Number.NaN);
}

async function redisDataset(redis: Redis): Promise<number> {
  return Number(/used_memory_dataset:(\d+)/.exec(await redis.info('memory'))?.[1] ?? Number.NaN);
}

/**
 * The dataset less what expires by itself: keys with a TTL (a concert's remembered joins for the
 * proof of work, kept 10 minutes after its latest join) leave on their own and are not a leak;
 * what has no TTL must be back to the baseline once the lines drained.
 */
async function redisLasting(redis: Redis): Promise<number> {
  let expiring = 0;
  for (const key of await redis.keys('*')) {
    if ((await redis.pttl(key)) > 0) expiring += Number((await redis.memory('USAGE', key)) ?? 0);
  }
  return (await redisDataset(redis)) - expiring;
}

/** Least squares: the slope of `ys` over `xs` (minutes), per 10 minutes. */
function slopePer10Min(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 10;
}

interface Stream {
  socket: Socket;
  events: number;
  failed: string | null;
}

/** An event stream on a raw socket (thousands of them cost the load generator next to nothing). */
function openStream(url: URL, token: string): Stream {
  const stream: Stream = { socket: connect(Number(url.port), url.hostname), events: 0, failed: null };
  let head = true;
  stream.socket.setEncoding('utf8');
  stream.socket.on('connect', () => {
    stream.socket.write(
      `GET /api/v1/queue/events?token=${encodeURIComponent(token)} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`,
    );
  });
  stream.socket.on('data', (chunk: string) => {
    if (head) {
      head = false;
      if (chunk.slice(9, 12) !== '200') stream.failed = `HTTP ${chunk.slice(9, 12)}`;
    }
    for (let i = chunk.indexOf('data: '); i >= 0; i = chunk.indexOf('data: ', i + 6)) stream.events++;
  });
  stream.socket.on('error', (error) => {
    stream.failed ??= error.message;
  });
  return stream;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 503s (shed or a store slow to answer on a busy machine) seen by the soak's own calls. */
let unavailable = 0;

/**
 * As a browser does (web/src/api.ts): a 503 is asked again after a pause (join and leave are
 * safe to repeat: a second join answers the same ticket, a second leave 204 or 404).
 */
async function patiently<T extends { status: number }>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const res = await call();
    if (res.status !== 503 || attempt >= 30) return res;
    unavailable++;
    await sleep(250 + Math.random() * 750);
  }
}

export const soak: Scenario = async (ctx) => {
  const shape = ctx.smoke ? SMOKE : FULL;
  const minutes = ctx.smoke ? 1 : Number(ctx.shared.get('soakMinutes') ?? 30);
  const base: ScenarioResult = {
    name: 'soak',
    unit: 'req/s',
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
  if (!ctx.cluster.databaseUrl) {
    return {
      ...base,
      checks: [{ name: 'soak runs in cluster mode', ok: false, detail: 'needs PostgreSQL and Redis' }],
    };
  }

  const redisServer = await RedisServer.start();
  const probeDir = mkdtempSync(join(tmpdir(), 'bo-soak-'));
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  ctx.progress(
    `soak: starting ${INSTANCES} instances, ${minutes} min, sampling every ${shape.sampleMs / 1000} s`,
  );
  const service = await startService({
    mode: 'servers',
    instances: INSTANCES,
    scratchDatabase: { adminUrl: PG_ADMIN_URL, prefix: 'boxoffice_bench_soak_' },
    redisUrl: redisServer.url,
    authSecret: ctx.authSecret,
    adminKey: ctx.api.adminKey,
    settings: SETTINGS,
    extra: { SOAK_PROBE_DIR: probeDir, SOAK_PROBE_EVERY_MS: String(Math.min(shape.sampleMs, 5_000)) },
    cluster: {
      serverPath: join(fileURLToPath(new URL('../..', import.meta.url)), 'dist', 'server.js'),
      nodeArgs: ['--import', fileURLToPath(new URL('../lib/soak-probe.mjs', import.meta.url))],
    },
  });
  const { cluster } = service;
  const pids = cluster.instances.map((i) => i.pid).filter((p): p is number => p !== undefined);
  const client = new ClusterClient({ targets: cluster.urls, maxInFlight: IN_FLIGHT });
  const api = new Api(cluster.urls, ctx.api.adminKey);
  const database = new pg.Client({ connectionString: service.databaseUrl });
  await database.connect();
  const databaseName = new URL(service.databaseUrl!).pathname.slice(1);
  const concertIds: string[] = [];

  const samples: Sample[] = [];
  const started = Date.now();
  const sample = async (roundEnd = false) => {
    const probes = pids.map((pid) => probeOf(probeDir, pid));
    const { rows } = await database.query<{ n: string }>(
      'select count(*) as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [databaseName],
    );
    samples.push({
      at: (Date.now() - started) / 60_000,
      rssMb: pids.map(rssMb),
      heapMb: probes.map((p) => p.heapFloor / 2 ** 20),
      lagP99Ms: probes.map((p) => p.lagP99Ms),
      fds: pids.map(openFds),
      pgConnections: Number(rows[0]!.n),
      redisUsedBytes: await redisUsed(redis),
      roundEnd,
    });
  };

  try {
    const cpuBefore = cpuSeconds(pids);
    await sleep(Math.min(shape.sampleMs, 5_000));
    const redisBaseline = await redisDataset(redis);
    await sample(true);
    const sampler = setInterval(
      () => void sample().catch((e) => ctx.progress(`soak: sample failed: ${e}`)),
      shape.sampleMs,
    );
    const deadline = started + minutes * 60_000;
    let rounds = 0;
    let sold = 0;
    let seats = 0;
    let streamEvents = 0;
    const streamFailures: Record<string, number> = {};
    const saleOutcomes: Record<string, number> = {};
    try {
      while (Date.now() < deadline) {
        const roundStart = Date.now();
        rounds++;
        // The streams' line: paused, so its waiters hold their streams open on heartbeats.
        const line = await api.createConcert(1, 50, 1000, `soak streams ${rounds}`);
        concertIds.push(line.concertId);
        await api.setQueue(line.concertId, { paused: true });
        const waiters: BenchUser[] = signedUsers(ctx.authSecret, shape.streams);
        await mapLimit(waiters, 32, async (w, i) => {
          const res = await patiently(() =>
            api.call<{ token: string }>('POST', '/api/v1/queue/tokens', {
              headers: { authorization: `Bearer ${w.accessToken}` },
              body: { concertId: line.concertId },
              instance: i,
            }),
          );
          if (res.status !== 201 && res.status !== 200)
            throw new Error(`join: ${res.status} ${JSON.stringify(res.body)}`);
          w.queueToken = res.body.token;
        });
        const streams = waiters.map((w, i) =>
          openStream(new URL(cluster.urls[i % cluster.urls.length]!), w.queueToken!),
        );
        // Beside them, a sale through its sell-out.
        const sale = await runSale({
          client,
          adminKey: ctx.api.adminKey,
          authSecret: ctx.authSecret,
          users: shape.buyers,
          seatsPerDate: shape.seats,
          activeTtlMs: SETTINGS.QUEUE_ACTIVE_TTL_SECONDS * 1000,
          timeLimitMs: Math.max(shape.roundMs * 2, 60_000),
          leaveWhenSoldOut: true,
          runId: `soak-${rounds}`,
        });
        concertIds.push(sale.concertId);
        sold += sale.sold;
        seats += shape.seats;
        for (const [k, v] of Object.entries(sale.outcomes)) saleOutcomes[k] = (saleOutcomes[k] ?? 0) + v;
        await sleep(Math.max(0, Math.min(roundStart + shape.roundMs, deadline) - Date.now()));
        // The round ends: every waiter leaves, the line drains, the streams close.
        await mapLimit(waiters, 32, (w, i) =>
          patiently(() =>
            api.call('DELETE', '/api/v1/queue/tokens/current', {
              headers: { 'queue-token': w.queueToken! },
              instance: i,
            }),
          ),
        );
        for (const s of streams) {
          streamEvents += s.events;
          if (s.failed) streamFailures[s.failed] = (streamFailures[s.failed] ?? 0) + 1;
          s.socket.destroy();
        }
        await sample(true);
        ctx.progress(
          `soak: round ${rounds} done at ${((Date.now() - started) / 60_000).toFixed(1)} min, ${sale.sold}/${shape.seats} sold, ${shape.streams} streams`,
        );
      }
    } finally {
      clearInterval(sampler);
    }
    await sample();
    const wallSeconds = (Date.now() - started) / 1000;
    const serverCpu = cpuSeconds(pids) - cpuBefore;

    // The drain: every line empty, the tickers take them off; Redis memory must come back.
    ctx.progress('soak: waiting for Redis memory to return to its baseline');
    const drainDeadline = Date.now() + (ctx.smoke ? 90_000 : 180_000);
    let redisAfter = await redisLasting(redis);
    while (redisAfter > redisBaseline + REDIS_RETURN_BYTES && Date.now() < drainDeadline) {
      await sleep(2_000);
      redisAfter = await redisLasting(redis);
    }
    const keysLeft = await redis.dbsize();
    const kindsLeft = await keyKinds(redis);
    ctx.progress(`soak: Redis keys left after the drain: ${JSON.stringify(kindsLeft)}`);

    // Slopes after warm-up (a quarter of the run, at most 5 minutes), each instance's own series,
    // judged on the samples taken at the rounds' ends: the same moment of each round, so what a
    // round leaves behind shows, not where in its round the 30-second timer happened to fall
    // (2,000 streams open or closed moves descriptors and heap far more than any leak). The
    // slopes of all the timer's samples are printed too.
    const warmup = Math.min(5, minutes / 4);
    const steady = samples.filter((s) => s.at >= warmup && s.roundEnd);
    const series: { name: string; values: number[]; floor: number }[] = [];
    for (let i = 0; i < pids.length; i++) {
      series.push({ name: `instance ${i + 1} RSS MB`, values: steady.map((s) => s.rssMb[i]!), floor: 0 });
      series.push({
        name: `instance ${i + 1} heap floor MB`,
        values: steady.map((s) => s.heapMb[i]!),
        floor: 0,
      });
      series.push({
        name: `instance ${i + 1} event-loop lag p99 ms`,
        values: steady.map((s) => s.lagP99Ms[i]!),
        floor: FLOORS.lagP99Ms!,
      });
      series.push({
        name: `instance ${i + 1} open fds`,
        values: steady.map((s) => s.fds[i]!),
        floor: FLOORS.fds!,
      });
    }
    series.push({
      name: 'PostgreSQL connections',
      values: steady.map((s) => s.pgConnections),
      floor: FLOORS.pgConnections!,
    });
    series.push({
      name: 'Redis used_memory MB',
      values: steady.map((s) => s.redisUsedBytes / 2 ** 20),
      floor: 0,
    });
    const xs = steady.map((s) => s.at);
    const slopes = series.map(({ name, values, floor }) => {
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const slope = slopePer10Min(xs, values);
      const percent = mean === 0 ? 0 : (slope / mean) * 100;
      const ok = slope <= Math.max((SLOPE_LIMIT_PERCENT / 100) * mean, floor);
      return {
        name,
        mean: Number(mean.toFixed(2)),
        slopePer10Min: Number(slope.toFixed(3)),
        percentPer10Min: Number(percent.toFixed(2)),
        ok,
      };
    });
    const every = samples.filter((s) => s.at >= warmup && !s.roundEnd);
    for (const name of ['rssMb', 'heapMb', 'fds'] as const)
      for (let i = 0; i < pids.length; i++) {
        const values = every.map((s) => s[name][i]!);
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        const slope = slopePer10Min(
          every.map((s) => s.at),
          values,
        );
        ctx.progress(
          `soak: (every ${shape.sampleMs / 1000} s) instance ${i + 1} ${name}: mean ${mean.toFixed(1)}, slope ${slope.toFixed(2)}/10 min (${((slope / mean) * 100).toFixed(2)} %)`,
        );
      }
    for (const s of slopes)
      ctx.progress(
        `soak: ${s.name}: mean ${s.mean}, slope ${s.slopePer10Min}/10 min (${s.percentPer10Min} %) ${s.ok ? 'ok' : 'RISING'}`,
      );

    const requests = client.tally.snapshot();
    // 503 UNAVAILABLE is an answer the contract allows (shed, a store slow on a busy machine),
    // asked again by the clients; anything else 5xx, or a broken connection, is a failure.
    const fiveHundreds = Object.entries(requests.byStatus)
      .filter(([k]) => (k.startsWith('5') && !k.startsWith('503')) || k.startsWith('ERR'))
      .reduce((a, [, n]) => a + n, 0);
    const shed = Object.entries(requests.byStatus)
      .filter(([k]) => k.startsWith('503'))
      .reduce((a, [, n]) => a + n, unavailable);
    const checks: Check[] = [
      { name: 'every sale sold out', ok: sold === seats, detail: `${sold}/${seats} in ${rounds} rounds` },
      {
        name: 'no 5xx but 503, no socket errors',
        ok: fiveHundreds === 0,
        detail: `${fiveHundreds}; 503s asked again: ${shed}`,
      },
      {
        name: 'every event stream opened and got events',
        ok: Object.keys(streamFailures).length === 0,
        detail: `${streamEvents} events, failures ${JSON.stringify(streamFailures)}`,
      },
      {
        name: 'Redis memory back to its baseline after the lines drained',
        // The one-minute smoke proves the scenario runs and prints what is left; the full run judges.
        ok: ctx.smoke || redisAfter <= redisBaseline + REDIS_RETURN_BYTES,
        detail: `used_memory_dataset before the first round ${redisBaseline} B, after the drain ${redisAfter} B not counting keys that expire by themselves (${keysLeft} keys left: per-concert settings and counters, kept by design)${ctx.smoke ? ' (smoke: not judged)' : ''}`,
      },
    ];
    const slopesCount = steady.length >= 5 && !ctx.smoke;
    for (const s of slopes) {
      checks.push({
        name: `${s.name} not rising after ${warmup} min (< ${SLOPE_LIMIT_PERCENT} %/10 min)`,
        // The smoke prints its slopes; too few points to judge.
        ok: slopesCount ? s.ok : true,
        detail: `${s.slopePer10Min}/10 min, ${s.percentPer10Min} % of mean ${s.mean}${slopesCount ? '' : ' (smoke: not judged)'}`,
      });
    }
    return {
      ...base,
      load: {
        ...base.load,
        requests: requests.total,
        seconds: wallSeconds,
        perSecond: requests.total / wallSeconds,
        counts: requests.byStatus,
        serverCpuPerCore: serverCpu / wallSeconds,
      },
      checks,
      facts: {
        minutes,
        rounds,
        streamsPerRound: shape.streams,
        buyersPerRound: shape.buyers,
        sold,
        saleOutcomes,
        sampleEverySeconds: shape.sampleMs / 1000,
        warmupMinutes: warmup,
        redisDatasetBaselineBytes: redisBaseline,
        redisDatasetAfterDrainBytes: redisAfter,
        redisKeysLeft: kindsLeft,
        slopes,
        samples: samples.map((s) => ({
          min: Number(s.at.toFixed(2)),
          rssMb: s.rssMb.map((v) => Math.round(v)),
          heapMb: s.heapMb.map((v) => Math.round(v)),
          lagP99Ms: s.lagP99Ms.map((v) => Number(v.toFixed(1))),
          fds: s.fds,
          pg: s.pgConnections,
          redisKb: Math.round(s.redisUsedBytes / 1024),
          roundEnd: s.roundEnd,
        })),
        settings: SETTINGS,
      },
    };
  } finally {
    await database.end().catch(() => {});
    await client.close();
    for (const id of concertIds) service.trackConcert(id);
    await service.stop();
    redis.disconnect();
    await redisServer.stop();
    rmSync(probeDir, { recursive: true, force: true });
  }
};
