import { randomBytes } from 'node:crypto';
import { createChallenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { CHALLENGE_LIFETIME_MS, CHALLENGE_PBKDF2_ITERATIONS } from '../../src/challenge/proof-of-work.js';
import type { Database } from '../../src/db/client.js';
import { openDatabase } from '../../src/db/client.js';
import { MemoryQueueStore } from '../../src/queue/memory-queue-store.js';
import { queueOptions } from '../../src/queue/queue-options.js';
import { RedisQueueStore } from '../../src/queue/redis-queue-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { startApp, testConfig } from '../helpers/app.js';
import {
  openScratchDatabase,
  readyRedis,
  resetDatabase,
  serverUrls,
  skipWithout,
} from '../helpers/backends.js';
import { ADMIN_KEY, TestContext, type User } from '../helpers/context.js';
import { decodeProof, encodeProof, solve } from '../helpers/proof-of-work.js';

const haveServers = !skipWithout(
  'proof of work',
  ['database', 'redis'],
  'instances that share PostgreSQL and Redis',
);
type Kind = 'embedded' | 'server';
const kinds: Kind[] = haveServers ? ['embedded', 'server'] : ['embedded'];

/**
 * `count` instances built as server.ts builds them (on the server backend they share
 * PostgreSQL and Redis under a random prefix, spent challenges included), on a clock that
 * starts at the real time: altcha-lib also compares a challenge's expiry with Date.now().
 */
function useInstances(kind: Kind, count: number, env: Record<string, string> = {}): () => TestContext[] {
  let database: Database;
  let current: TestContext[] | undefined;
  const disposers: (() => Promise<void> | void)[] = [];
  beforeAll(async () => {
    database =
      kind === 'server'
        ? await openScratchDatabase(serverUrls.database!)
        : await openDatabase({ url: undefined, dataDir: 'memory' });
  }, 180_000);
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await resetDatabase(database);
    // A cheap challenge: these tests are about the rules, README "Proof of work" about the cost.
    const config = testConfig({ CHALLENGE_COST: '10', ...env });
    const { timings, defaults } = queueOptions(config);
    const clock = new ManualClock(Date.now());
    const secret = randomBytes(32);
    const prefix = `bo-test-${randomBytes(4).toString('hex')}:`;
    current = [];
    for (let i = 0; i < count; i++) {
      let store: MemoryQueueStore | RedisQueueStore;
      let redisOptions = {};
      if (kind === 'server') {
        const redis = await readyRedis(serverUrls.redis!);
        disposers.push(() => redis.disconnect());
        store = new RedisQueueStore(redis, timings, defaults, { prefix });
        redisOptions = { redis, redisPrefix: prefix };
      } else {
        store = new MemoryQueueStore(timings, defaults);
      }
      const app = await startApp({ config, database, queueStore: store, ...redisOptions, secret, clock });
      disposers.push(() => app.close());
      current.push(new TestContext(app, clock, store, config, database));
    }
  });
  afterEach(async () => {
    for (const dispose of disposers.splice(0).reverse()) await dispose();
    current = undefined;
  });
  return () => {
    if (!current) throw new Error('the service is only there inside a test');
    return current;
  };
}

const admin = { 'admin-key': ADMIN_KEY };

async function challengeOn(s: TestContext, concertId: string, on = true) {
  const res = await s.call('PATCH', `/api/v1/admin/concerts/${concertId}/queue`, {
    headers: admin,
    body: { challenge: on },
  });
  expect(res.status).toBe(200);
  expect(res.body.challenge).toBe(on);
}

async function proofFrom(s: TestContext): Promise<string> {
  const res = await s.call('GET', '/api/v1/challenge');
  expect(res.status).toBe(200);
  return solve(res.body);
}

const join = (s: TestContext, user: User, concertId: string, proof?: unknown) =>
  s.call('POST', '/api/v1/queue/tokens', {
    user,
    body: proof === undefined ? { concertId } : { concertId, proof },
  });

async function lineOf(s: TestContext, concertId: string) {
  return (await s.call('GET', `/api/v1/admin/concerts/${concertId}/queue`, { headers: admin })).body;
}

describe.each(kinds)('proof of work at the door (%s)', (kind) => {
  const service = useInstances(kind, 1);

  test('when a concert is created, then its challenge is off and a proof is ignored', async () => {
    const [s] = service() as [TestContext];
    const { concertId } = await s.newConcert();
    expect((await lineOf(s, concertId)).challenge).toBe(false);
    const user = await s.newUser();
    expect((await join(s, user, concertId, 'not a proof at all')).status).toBe(201);
  });

  test('when the challenge is on, then a join without a proof is 403 CHALLENGE_FAILED and takes no place', async () => {
    const [s] = service() as [TestContext];
    const { concertId } = await s.newConcert();
    await challengeOn(s, concertId);
    const user = await s.newUser();
    const refused = await join(s, user, concertId);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('CHALLENGE_FAILED');
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect((await lineOf(s, concertId)).waiting).toBe(0);
  });

  test('when a buyer solves a challenge, then the join is 201; the same proof again is 403; the buyer rejoins without one', async () => {
    const [s] = service() as [TestContext];
    const { concertId } = await s.newConcert();
    await challengeOn(s, concertId);
    const [buyer, bot] = [await s.newUser(), await s.newUser()];
    const proof = await proofFrom(s);
    const joined = await join(s, buyer, concertId, proof);
    expect(joined.status).toBe(201);
    const replayed = await join(s, bot, concertId, proof);
    expect(replayed.status).toBe(403);
    expect(replayed.body.code).toBe('CHALLENGE_FAILED');
    const again = await join(s, buyer, concertId);
    expect(again.status).toBe(200);
    expect(again.body.token).toBe(joined.body.token);
    // The proof of a rejoin is not looked at, nor spent.
    const spare = await proofFrom(s);
    expect((await join(s, buyer, concertId, spare)).status).toBe(200);
    expect((await join(s, bot, concertId, spare)).status).toBe(201);
    expect((await lineOf(s, concertId)).waiting).toBe(2);
  });

  test('when a buyer leaves the line, then joining again needs a new proof', async () => {
    const [s] = service() as [TestContext];
    const { concertId } = await s.newConcert();
    await challengeOn(s, concertId);
    const buyer = await s.newUser();
    const joined = await join(s, buyer, concertId, await proofFrom(s));
    expect(joined.status).toBe(201);
    expect(
      (await s.call('DELETE', '/api/v1/queue/tokens/current', { queueToken: joined.body.token })).status,
    ).toBe(204);
    expect((await join(s, buyer, concertId)).status).toBe(403);
    expect((await join(s, buyer, concertId, await proofFrom(s))).status).toBe(201);
  });

  test('when a proof is for an expired challenge, then the join is 403', async () => {
    const [s] = service() as [TestContext];
    const { concertId } = await s.newConcert();
    await challengeOn(s, concertId);
    const now = s.clock.now();
    // A challenge issued just over its lifetime ago (solved in time, sent too late).
    s.clock.set(now - CHALLENGE_LIFETIME_MS - 1000);
    const proof = await proofFrom(s);
    s.clock.set(now);
    const res = await join(s, await s.newUser(), concertId, proof);
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/expired/);
  });

  test('when a proof is forged or edited, then the join is 403 and nothing is spent', async () => {
    const [s] = service() as [TestContext];
    const { concertId } = await s.newConcert();
    await challengeOn(s, concertId);
    const user = await s.newUser();
    const good = await proofFrom(s);
    const { challenge, solution } = decodeProof(good);
    const p = challenge.parameters;
    const foreign = await createChallenge({
      algorithm: 'PBKDF2/SHA-256',
      cost: CHALLENGE_PBKDF2_ITERATIONS,
      counter: 7,
      deriveKey,
      expiresAt: Math.floor(s.clock.now() / 1000) + 300,
      hmacSignatureSecret: 'a secret this service does not have',
      hmacKeySignatureSecret: 'another one',
    });
    // (The counter is not among them: the server signed the key, and the key alone proves the work.)
    const forged = [
      encodeProof(challenge, { ...solution, derivedKey: '00'.repeat(32) }),
      encodeProof(challenge, { ...solution, derivedKey: solution.derivedKey.slice(0, 62) }),
      encodeProof({ ...challenge, parameters: { ...p, expiresAt: p.expiresAt + 3600 } }, solution),
      encodeProof({ ...challenge, parameters: { ...p, keySignature: undefined } }, solution),
      encodeProof({ ...challenge, parameters: { ...p, cost: 1 } }, solution),
      encodeProof({ ...challenge, signature: 'ab'.repeat(32) }, solution),
      encodeProof({ parameters: p }, solution),
      encodeProof(foreign, { counter: 7, derivedKey: '00' }),
      encodeProof(challenge, null),
      Buffer.from('null').toString('base64'),
      Buffer.from('[]').toString('base64'),
      '%%% not base64 %%%',
      '',
    ];
    for (const proof of forged) {
      const res = await join(s, user, concertId, proof);
      expect(res.status, proof).toBe(403);
      expect(res.body.code).toBe('CHALLENGE_FAILED');
    }
    expect((await lineOf(s, concertId)).waiting).toBe(0);
    // None of the above spent the genuine one.
    expect((await join(s, user, concertId, good)).status).toBe(201);
  });

  test('when the proof is not a string or is too long, then the join is 400', async () => {
    const [s] = service() as [TestContext];
    const { concertId } = await s.newConcert();
    await challengeOn(s, concertId);
    const user = await s.newUser();
    for (const proof of [42, null, {}, ['x'], 'x'.repeat(5000)]) {
      const res = await join(s, user, concertId, proof);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
  });

  test('when a buyer joined before the challenge was turned on, then their rejoin needs no proof', async () => {
    const [s] = service() as [TestContext];
    const { concertId } = await s.newConcert();
    const buyer = await s.newUser();
    const joined = await join(s, buyer, concertId);
    expect(joined.status).toBe(201);
    await challengeOn(s, concertId);
    const again = await join(s, buyer, concertId);
    expect(again.status).toBe(200);
    expect(again.body.token).toBe(joined.body.token);
  });

  test('when the challenge is turned off again, then joins need no proof', async () => {
    const [s] = service() as [TestContext];
    const { concertId } = await s.newConcert();
    await challengeOn(s, concertId);
    expect((await join(s, await s.newUser(), concertId)).status).toBe(403);
    await challengeOn(s, concertId, false);
    expect((await join(s, await s.newUser(), concertId)).status).toBe(201);
  });

  test('when the admin sends a challenge that is not a boolean, then it is 400', async () => {
    const [s] = service() as [TestContext];
    const { concertId } = await s.newConcert();
    const res = await s.call('PATCH', `/api/v1/admin/concerts/${concertId}/queue`, {
      headers: admin,
      body: { challenge: 'yes' },
    });
    expect(res.status).toBe(400);
    expect((await lineOf(s, concertId)).challenge).toBe(false);
  });

  test('when GET /challenge is asked, then it answers a signed ALTCHA challenge valid 5 minutes', async () => {
    const [s] = service() as [TestContext];
    const res = await s.call('GET', '/api/v1/challenge');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.parameters).toMatchObject({
      algorithm: 'PBKDF2/SHA-256',
      cost: CHALLENGE_PBKDF2_ITERATIONS,
    });
    expect(res.body.parameters.expiresAt).toBe(Math.floor((s.clock.now() + CHALLENGE_LIFETIME_MS) / 1000));
    expect(res.body.signature).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe.each(kinds)('proof of work at sign-up (%s)', (kind) => {
  const service = useInstances(kind, 1, { SIGNUP_CHALLENGE: 'true' });

  test('when SIGNUP_CHALLENGE is on, then sign-up needs a proof, once', async () => {
    const [s] = service() as [TestContext];
    const bare = await s.call('POST', '/api/v1/users', { body: { name: 'bot' } });
    expect(bare.status).toBe(403);
    expect(bare.body.code).toBe('CHALLENGE_FAILED');
    const proof = await proofFrom(s);
    const created = await s.call('POST', '/api/v1/users', { body: { name: 'buyer', proof } });
    expect(created.status).toBe(201);
    const again = await s.call('POST', '/api/v1/users', { body: { name: 'bot', proof } });
    expect(again.status).toBe(403);
  });
});

describe.each(kinds)('proof of work, sign-up without SIGNUP_CHALLENGE (%s)', (kind) => {
  const service = useInstances(kind, 1);

  test('when SIGNUP_CHALLENGE is off, then sign-up needs no proof and ignores one', async () => {
    const [s] = service() as [TestContext];
    expect((await s.call('POST', '/api/v1/users', { body: {} })).status).toBe(201);
    expect((await s.call('POST', '/api/v1/users', { body: { proof: 'garbage' } })).status).toBe(201);
  });
});

describe.runIf(haveServers)('proof of work across two instances (server)', () => {
  const service = useInstances('server', 2);

  test('when a proof was accepted by one instance, then the other refuses it; the setting is seen by both', async () => {
    const [a, b] = service() as [TestContext, TestContext];
    const { concertId } = await a.newConcert();
    await challengeOn(a, concertId);
    const proof = await proofFrom(a);
    const [first, second] = [await a.newUser(), await b.newUser()];
    // The other instance never read this concert's setting: it reads PostgreSQL.
    expect((await join(b, second, concertId)).status).toBe(403);
    // Both at once: exactly one instance accepts the proof.
    const results = await Promise.all([join(a, first, concertId, proof), join(b, second, concertId, proof)]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 403]);
    // A rejoin through the other instance needs no proof.
    const winner = results[0]!.status === 201 ? first : second;
    const via = results[0]!.status === 201 ? b : a;
    expect((await join(via, winner, concertId)).status).toBe(200);
  });
});
