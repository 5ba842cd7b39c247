/**
 * What the line's picture costs Redis (issue 21), against a Redis of its own:
 *   redis-server --port 6391 --save '' --appendonly no &
 *   npx tsx scripts/measure-line-picture.ts redis://127.0.0.1:6391 [waiters]
 * Fills one paused line with `waiters` (default 1,000,000) in the store's own layout
 * (bench/scenarios/line-fill.lua), then prints Redis memory per waiter (the picture's bits
 * included), Redis µs per call (INFO commandstats, evalsha) of a rank-based view against a
 * picture fetched whole and a refresh of an unchanged line, and the in-process cost of a
 * position computed from the copy. It writes under the prefix `measure-line-picture:` and
 * deletes it at the end; use a Redis nothing else is using, or the per-call figures mix.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { RedisQueueStore } from '../src/queue/redis-queue-store.js';
import { lineKeys } from '../src/redis/keys.js';

const url = process.argv[2];
if (!url) throw new Error('usage: measure-line-picture.ts <redis url> [waiters]');
const waiters = Number(process.argv[3] ?? 1_000_000);
const redis = new Redis(url);
const prefix = 'measure-line-picture:';
const settings = { maxActive: 100, admitPerSecond: 100, paused: true };
const store = new RedisQueueStore(redis, { activeTtlMs: 600_000, idleTimeoutMs: 60_000 }, settings, {
  prefix,
});
const concert = 'c0ffee00-0000-4000-8000-00000000beef';
const now = Date.now();

const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
const evalStats = async () => {
  const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await redis.info('commandstats'));
  return { calls: Number(m?.[1] ?? 0), usec: Number(m?.[2] ?? 0) };
};
const perCall = async (label: string, run: () => Promise<unknown>, times = 200) => {
  const a = await evalStats();
  for (let i = 0; i < times; i++) await run();
  const b = await evalStats();
  console.log(`${label}: ${((b.usec - a.usec) / (b.calls - a.calls)).toFixed(1)} µs of Redis per call`);
};

await store.join(concert, 'first', now);
const before = await usedMemory();
const k = lineKeys(prefix, concert);
const fill = readFileSync(new URL('../bench/scenarios/line-fill.lua', import.meta.url), 'utf8');
for (let done = 0; done < waiters; done += 50_000) {
  const n = Math.min(50_000, waiters - done);
  await redis.eval(fill, 5, k.meta, k.waiting, k.seen, k.seenBlocks, k.bits, n, now + 3_600_000);
}
const perWaiter = ((await usedMemory()) - before) / waiters;
console.log(
  `Redis memory per waiter at ${waiters}: ${perWaiter.toFixed(1)} B (bits: ${await redis.strlen(k.bits)} B)`,
);
const half = String(Math.floor(waiters / 2));
const middle = Number((await redis.zrange(k.waiting, half, half, 'WITHSCORES'))[1]);
await perCall('view of one waiter (rank), touch', () => store.view(concert, middle, now, true));
let copy = await store.picture(concert, now);
await perCall('picture fetched whole', () => store.picture(concert, now), 50);
await perCall('picture refreshed, line unchanged', async () => {
  copy = await store.picture(concert, now, copy);
});
const started = performance.now();
let sum = 0;
for (let i = 0; i < 100_000; i++) sum += copy?.position(middle + (i % 1000)) ?? 0;
const ns = ((performance.now() - started) * 1e6) / 100_000;
console.log(`position from the copy, in process: ${ns.toFixed(0)} ns per call (checksum ${sum})`);
let cursor = '0';
do {
  const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
  cursor = next;
  if (keys.length > 0) await redis.del(...keys);
} while (cursor !== '0');
await redis.quit();
