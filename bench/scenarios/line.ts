import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { DEFAULT_PREFIX, lineKeys } from '../../src/redis/keys.js';
import { type BenchUser, bearer, signedUsers } from '../lib/api.js';
import { REDIS_URL } from '../lib/servers.js';
import type { LoadResult } from '../lib/stats.js';
import { runWrk } from '../lib/wrk.js';
import { allAnswered, type Check, loadSettings, noServerErrors, type Scenario } from './scenario.js';

/**
 * A growing line: one concert's line is filled to 1k, 10k, 100k and 1M waiting (up to
 * `--line-size`), and at each size status reads (poll) and joins are measured through the
 * instances, beside what a waiter costs: Redis `used_memory` per waiter, and the in-process
 * store's heap per waiter. Flat at scale means the rows read alike.
 *
 * Fillers are appended by a Lua loader in the store's own layout (line-fill.lua) in cluster
 * mode, and through HTTP joins in embedded mode (capped at 100k there). The line is paused so
 * everyone stays WAITING; the polling users joined first, through the API. With Redis, joins
 * are measured on a second line filled to the same size, then dropped.
 */

export const DEFAULT_LINE_SIZE = 1_000_000;
const STEPS = [1_000, 10_000, 100_000, 1_000_000];
const EMBEDDED_MAX = 100_000;
const POLLERS = 2_000;
/** Joins one measured run prepares at most (the line grows by as many). */
const JOINS_PER_SECOND_PREPARED = 15_000;
const FILL_CHUNK = 20_000;
/** Fillers count as seen this far ahead of the clock, so none goes idle while measured. */
const FILLER_SEEN_AHEAD_MS = 3_600_000;

export interface LineRow {
  waiting: number;
  pollPerSecond: number;
  pollP99Ms: number;
  joinPerSecond: number;
  joinP99Ms: number;
  /** The line's size while the joins ran (they add to it). */
  joinedUpTo: number;
  redisBytesPerWaiter: number | null;
}

const fillScript = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'line-fill.lua'), 'utf8');

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? Number.NaN);
}

/** Heap per waiting user of the in-process store, user id strings included (line-heap.ts). */
export function heapBytesPerWaiter(count: number): number {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'line-heap.ts');
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, String(count)], {
    encoding: 'utf8',
  });
  return (JSON.parse(out.trim().split('\n').pop()!) as { heapBytesPerWaiter: number }).heapBytesPerWaiter;
}

export function lineTable(rows: LineRow[], heapPerWaiter: number, heapCount: number): string {
  const out = [
    '| waiting | poll req/s | poll p99 ms | join req/s | join p99 ms | line during joins | Redis B/waiter |',
    '|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    out.push(
      `| ${r.waiting.toLocaleString('en')} | ${Math.round(r.pollPerSecond)} | ${r.pollP99Ms.toFixed(1)} | ${Math.round(r.joinPerSecond)} | ${r.joinP99Ms.toFixed(1)} | ${r.joinedUpTo.toLocaleString('en')} | ${r.redisBytesPerWaiter === null ? '–' : r.redisBytesPerWaiter.toFixed(0)} |`,
    );
  }
  out.push(
    '',
    `In-process store: ${heapPerWaiter.toFixed(0)} B of heap per waiter at ${heapCount.toLocaleString('en')} (user id strings included).`,
  );
  return out.join('\n');
}

export const line: Scenario = async (ctx) => {
  const onRedis = ctx.cluster.databaseUrl !== null;
  const asked = Number(ctx.shared.get('lineSize') ?? DEFAULT_LINE_SIZE);
  const largest = ctx.smoke ? 1_000 : Math.min(asked, onRedis ? asked : EMBEDDED_MAX);
  const sizes = [...new Set([...STEPS.filter((s) => s < largest), largest])];

  const concert = await ctx.api.createConcert(1, 50, 1000, 'bench line');
  ctx.cluster.trackConcert(concert.concertId);
  await ctx.api.setQueue(concert.concertId, { paused: true });
  const pollers = signedUsers(ctx.authSecret, Math.min(POLLERS, sizes[0]!));
  ctx.progress(`line: ${pollers.length} pollers join`);
  await ctx.api.join(pollers, concert.concertId, 64);

  const redis = onRedis ? new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }) : null;
  const keys = lineKeys(DEFAULT_PREFIX, concert.concertId);
  const memoryAtStart = redis ? await usedMemory(redis) : 0;
  const waitingAtStart = pollers.length;
  let waiting = pollers.length;
  const rows: LineRow[] = [];
  let lastPoll: LoadResult | undefined;
  const checks: Check[] = [];
  /** Appends `count` waiters to a line that exists (someone joined it). */
  const fill = async (line: ReturnType<typeof lineKeys>, concertId: string, count: number) => {
    for (let done = 0; done < count; done += FILL_CHUNK) {
      const n = Math.min(FILL_CHUNK, count - done);
      if (redis) {
        const at = Date.now() + FILLER_SEEN_AHEAD_MS;
        await redis.eval(
          fillScript,
          5,
          line.meta,
          line.waiting,
          line.seen,
          line.seenBlocks,
          line.bits,
          n,
          at,
        );
      } else {
        await ctx.api.join(signedUsers(ctx.authSecret, n), concertId, 64);
      }
    }
  };
  try {
    for (const size of sizes) {
      ctx.progress(`line: filling to ${size.toLocaleString('en')}`);
      if (waiting < size) await fill(keys, concert.concertId, size - waiting);
      waiting = Math.max(waiting, size);
      // A join again is a sign of life: pollers stay WAITING across the fills.
      await ctx.api.join(pollers, concert.concertId, 64);
      const measuredAt = redis ? Number(await redis.zcard(keys.waiting)) : waiting;
      // Over every waiter added since the start, fillers and joiners alike.
      const redisBytesPerWaiter =
        redis && measuredAt > waitingAtStart
          ? ((await usedMemory(redis)) - memoryAtStart) / (measuredAt - waitingAtStart)
          : null;

      ctx.progress(`line: ${size.toLocaleString('en')} waiting, ${ctx.durationSeconds} s of status reads`);
      const poll = await runWrk({
        name: `line-poll-${size}`,
        targets: ctx.api.urls,
        requests: pollers.map((u) => ({
          method: 'GET',
          path: '/api/v1/queue/status',
          headers: { 'Queue-Token': u.queueToken! },
        })),
        ...loadSettings(ctx),
        once: false,
      });
      lastPoll = poll;
      checks.push({ ...noServerErrors(poll), name: `poll at ${size}: no 5xx` });
      checks.push(allAnswered(poll, '200', `poll at ${size}: every read is 200`));

      // With Redis, joins go to a line of their own filled to the same size, so the line
      // polled keeps its size; in process (no loader) they join the polled line.
      let joinLine = concert.concertId;
      if (redis) {
        joinLine = (await ctx.api.createConcert(1, 50, 1000, `bench line joins ${size}`)).concertId;
        ctx.cluster.trackConcert(joinLine);
        await ctx.api.setQueue(joinLine, { paused: true });
        await ctx.api.join(signedUsers(ctx.authSecret, 1), joinLine);
        await fill(lineKeys(DEFAULT_PREFIX, joinLine), joinLine, size - 1);
      }
      const joiners: BenchUser[] = signedUsers(
        ctx.authSecret,
        Math.ceil(JOINS_PER_SECOND_PREPARED * ctx.durationSeconds),
      );
      ctx.progress(`line: ${size.toLocaleString('en')} waiting, ${ctx.durationSeconds} s of joins`);
      const joins = await runWrk({
        name: `line-join-${size}`,
        targets: ctx.api.urls,
        requests: joiners.map((u) => ({
          method: 'POST',
          path: '/api/v1/queue/tokens',
          headers: bearer(u),
          body: { concertId: joinLine },
        })),
        ...loadSettings(ctx),
        once: true,
      });
      if (redis) await ctx.cluster.forgetConcert(joinLine);
      checks.push({ ...noServerErrors(joins), name: `join at ${size}: no 5xx` });
      checks.push(allAnswered(joins, '201', `join at ${size}: every join is a new token (201)`));
      const joined = joins.counts['201'] ?? 0;
      rows.push({
        waiting: measuredAt,
        pollPerSecond: poll.perSecond,
        pollP99Ms: poll.latencyMs.p99,
        joinPerSecond: joins.perSecond,
        joinP99Ms: joins.latencyMs.p99,
        joinedUpTo: (redis ? size : waiting) + joined,
        redisBytesPerWaiter,
      });
      // In process the joins (warm-up included) stayed in the polled line.
      if (!redis) waiting += joined;
    }
  } finally {
    redis?.disconnect();
    await ctx.cluster.forgetConcert(concert.concertId);
  }

  ctx.progress(`line: heap per waiter of the in-process store at ${largest.toLocaleString('en')}`);
  const heapCount = Math.min(largest, DEFAULT_LINE_SIZE);
  const heapPerWaiter = heapBytesPerWaiter(heapCount);
  const table = lineTable(rows, heapPerWaiter, heapCount);
  console.log(`\nline (${onRedis ? 'Redis' : 'in-process'} queue):\n${table}\n`);
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  const within = (a: number, b: number) => Math.abs(b - a) / a <= 0.15;
  return {
    name: 'line',
    unit: 'req/s',
    load: lastPoll!,
    ceiling: onRedis ? 'redis' : 'http',
    checks,
    facts: {
      rows,
      heapBytesPerWaiter: Math.round(heapPerWaiter),
      pollFlatWithin15Percent: within(first.pollPerSecond, last.pollPerSecond),
      joinFlatWithin15Percent: within(first.joinPerSecond, last.joinPerSecond),
      redisBytesPerWaiterAtLargest: last.redisBytesPerWaiter,
    },
  };
};
