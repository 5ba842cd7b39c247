/**
 * The numbers of README "Proof of work": what a verified join costs the server next to a join
 * without a proof, what issuing a challenge costs, and how long the default CHALLENGE_COST takes
 * to solve in Node and in Chromium on this machine.
 *
 *   npx tsx scripts/measure-proof-of-work.ts [joins per round, default 300] [cpu|solve]
 *   MEASURE_REDIS_URL=redis://127.0.0.1:6379 npx tsx scripts/measure-proof-of-work.ts 300 cpu
 *
 * CPU is process.cpuUsage() (user + system) around a batch, so the app's whole request path
 * (routing, validation, the queue store, serialisation) is in it; the embedded database and the
 * in-process queue, so no network round trip hides or adds anything.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createChallenge, randomInt, solveChallenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { chromium } from 'playwright-core';
import { buildApp } from '../src/app.js';
import { CHALLENGE_PBKDF2_ITERATIONS, ProofOfWork } from '../src/challenge/proof-of-work.js';
import { InProcessSpentChallenges } from '../src/challenge/spent-challenges.js';
import { DEFAULT_CHALLENGE_COST, loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { MemoryQueueStore } from '../src/queue/memory-queue-store.js';
import { queueOptions } from '../src/queue/queue-options.js';
import { RedisQueueStore } from '../src/queue/redis-queue-store.js';
import { connectRedis } from '../src/redis/connection.js';
import { systemClock } from '../src/shared/clock.js';

const PER_ROUND = Number(process.argv[2] ?? 300);
const ROUNDS = 10;
const ADMIN_KEY = 'measure-admin-key-0123456789';

const cpuMs = (from: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(from);
  return (user + system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const encode = (challenge: unknown, solution: unknown) =>
  Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');

async function solveCheap(pow: ProofOfWork): Promise<string> {
  const challenge = pow.issue();
  const solution = await solveChallenge({ challenge, deriveKey });
  return encode(challenge, { counter: solution!.counter, derivedKey: solution!.derivedKey });
}

/** Two HMACs and a map insert: ProofOfWork.redeem alone, and issue (one PBKDF2 derivation). */
async function verifyAlone() {
  const pow = new ProofOfWork(randomBytes(32), 10, new InProcessSpentChallenges(), systemClock);
  const proofs: string[] = [];
  for (let i = 0; i < PER_ROUND; i++) proofs.push(await solveCheap(pow));
  let from = process.cpuUsage();
  let t = performance.now();
  for (const proof of proofs) await pow.redeem(proof);
  const redeem = {
    cpuUsPerProof: (cpuMs(from) * 1000) / proofs.length,
    wallUs: ((performance.now() - t) * 1000) / proofs.length,
  };
  from = process.cpuUsage();
  t = performance.now();
  for (let i = 0; i < PER_ROUND; i++) pow.issue();
  const issue = {
    cpuUsPerChallenge: (cpuMs(from) * 1000) / PER_ROUND,
    wallUs: ((performance.now() - t) * 1000) / PER_ROUND,
  };
  return { redeem, issue };
}

/** Joins through HTTP (inject) on two concerts, challenge off and on, rounds interleaved. */
async function joinsInApp() {
  const config = loadConfig({
    DATA_DIR: 'memory',
    ADMIN_KEY,
    RATE_LIMIT_PER_MINUTE: '0',
    OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0',
    CHALLENGE_COST: '10',
    SEED_DEMO: 'false',
  });
  const database = await openDatabase({ url: undefined, dataDir: 'memory' });
  const { timings, defaults } = queueOptions(config);
  // MEASURE_REDIS_URL: the line and the spent challenges in Redis, as several instances run them.
  const redisUrl = process.env.MEASURE_REDIS_URL;
  const redis = redisUrl ? connectRedis(redisUrl) : undefined;
  // Commands are not queued while connecting (a down Redis answers 503 at once): wait for it.
  if (redis) await new Promise((resolve) => redis.once('ready', resolve));
  const prefix = `bo-measure-${randomBytes(4).toString('hex')}:`;
  const app = await buildApp({
    config,
    database,
    queueStore: redis
      ? new RedisQueueStore(redis, timings, defaults, { prefix })
      : new MemoryQueueStore(timings, defaults),
    ...(redis ? { redis, redisPrefix: prefix } : {}),
    secret: randomBytes(32),
    backgroundJobs: false,
    webRoot: null,
  });
  await app.ready();
  const call = async (method: 'GET' | 'POST' | 'PATCH', url: string, body?: object, headers = {}) => {
    const res = await app.inject({ method, url, headers, ...(body ? { payload: body } : {}) });
    return { status: res.statusCode, body: res.json() };
  };
  const concert = async () =>
    (
      await call(
        'POST',
        '/api/v1/admin/concerts',
        { title: 'm', venue: 'm', dates: [{ date: '2099-01-01', seats: 10, price: 1000 }] },
        { 'admin-key': ADMIN_KEY },
      )
    ).body.concertId as string;
  const off = await concert();
  const on = await concert();
  await call('PATCH', `/api/v1/admin/concerts/${on}/queue`, { challenge: true }, { 'admin-key': ADMIN_KEY });
  const solveViaHttp = async () => {
    const challenge = (await call('GET', '/api/v1/challenge')).body;
    const solution = await solveChallenge({ challenge, deriveKey });
    return encode(challenge, { counter: solution!.counter, derivedKey: solution!.derivedKey });
  };
  const batch = async (concertId: string, withProof: boolean) => {
    const users: string[] = [];
    const proofs: string[] = [];
    for (let i = 0; i < PER_ROUND; i++) {
      users.push((await call('POST', '/api/v1/users', {})).body.accessToken);
      if (withProof) proofs.push(await solveViaHttp());
    }
    const from = process.cpuUsage();
    for (let i = 0; i < PER_ROUND; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/queue/tokens',
        headers: { authorization: `Bearer ${users[i]}` },
        payload: withProof ? { concertId, proof: proofs[i] } : { concertId },
      });
      if (res.statusCode !== 201) throw new Error(`join ${res.statusCode} ${res.body}`);
    }
    return (cpuMs(from) * 1000) / PER_ROUND;
  };
  // Warm-up of both paths, then rounds in alternating order so that drift (JIT, the machine's
  // other load) falls on both alike.
  await batch(off, false);
  await batch(on, true);
  const without: number[] = [];
  const verified: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      without.push(await batch(off, false));
      verified.push(await batch(on, true));
    } else {
      verified.push(await batch(on, true));
      without.push(await batch(off, false));
    }
  }
  await app.close();
  await database.close();
  redis?.disconnect();
  return {
    line: redis ? 'Redis' : 'in process',
    cpuUsPerJoinWithout: median(without),
    cpuUsPerVerifiedJoin: median(verified),
    without,
    verified,
  };
}

/** The default cost as the server issues it, solved by altcha-lib in Node (native PBKDF2, one thread). */
async function solveInNode(samples: number) {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const challenge = await createChallenge({
      algorithm: 'PBKDF2/SHA-256',
      cost: CHALLENGE_PBKDF2_ITERATIONS,
      counter: randomInt(DEFAULT_CHALLENGE_COST, Math.ceil(DEFAULT_CHALLENGE_COST / 2)),
      deriveKey,
      hmacSignatureSecret: 'x'.repeat(64),
      hmacKeySignatureSecret: 'y'.repeat(64),
    });
    const t = performance.now();
    await solveChallenge({ challenge, deriveKey });
    times.push(performance.now() - t);
  }
  return { medianMs: median(times), timesMs: times.map(Math.round) };
}

/** The same in Chromium: altcha-lib's solver with WebCrypto PBKDF2, as the web app's worker runs it. */
async function solveInChromium(samples: number) {
  const lib = join(import.meta.dirname, '..', 'node_modules', 'altcha-lib', 'dist', 'esm', 'v2');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.route('http://localhost/**', (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/')
        return route.fulfill({ body: '<!doctype html><title>pow</title>', contentType: 'text/html' });
      return route.fulfill({
        body: readFileSync(join(lib, path.replace('/lib/', ''))),
        contentType: 'text/javascript',
      });
    });
    await page.goto('http://localhost/');
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const challenge = await createChallenge({
        algorithm: 'PBKDF2/SHA-256',
        cost: CHALLENGE_PBKDF2_ITERATIONS,
        counter: randomInt(DEFAULT_CHALLENGE_COST, Math.ceil(DEFAULT_CHALLENGE_COST / 2)),
        deriveKey,
        hmacSignatureSecret: 'x'.repeat(64),
        hmacKeySignatureSecret: 'y'.repeat(64),
      });
      times.push(
        await page.evaluate(async (c) => {
          const { solveChallenge } = await import('/lib/pow.js' as string);
          const { deriveKey } = await import('/lib/algorithms/web/pbkdf2.js' as string);
          const t = performance.now();
          await solveChallenge({ challenge: c, deriveKey });
          return performance.now() - t;
        }, challenge),
      );
    }
    return { medianMs: median(times), timesMs: times.map(Math.round) };
  } finally {
    await browser.close();
  }
}

const [, , , part] = process.argv;
const results: Record<string, unknown> = { perRound: PER_ROUND, defaultCost: DEFAULT_CHALLENGE_COST };
if (!part || part === 'cpu') {
  results.verifyAlone = await verifyAlone();
  results.joins = await joinsInApp();
}
if (!part || part === 'solve') {
  results.node = await solveInNode(7);
  results.chromium = await solveInChromium(7);
}
console.log(JSON.stringify(results, null, 2));
