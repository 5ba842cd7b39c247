import { createHmac, randomBytes } from 'node:crypto';
import { createChallenge, solveChallenge, verifySolution } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { describe, expect, test } from 'vitest';
import { CHALLENGE_PBKDF2_ITERATIONS, ProofOfWork } from '../../src/challenge/proof-of-work.js';
import { InProcessSpentChallenges } from '../../src/challenge/spent-challenges.js';
import { DEFAULT_CHALLENGE_COST, loadConfig } from '../../src/config.js';
import { systemClock } from '../../src/shared/clock.js';
import { encodeProof } from '../helpers/proof-of-work.js';

/**
 * ProofOfWork issues and checks ALTCHA challenges with node:crypto instead of altcha-lib's
 * WebCrypto calls (for CPU): these hold the two to one format, in both directions.
 */
const authSecret = randomBytes(32);
// The secrets ProofOfWork derives from AUTH_SECRET (its labels).
const secrets = {
  hmacSignatureSecret: createHmac('sha256', authSecret).update('boxoffice/altcha/challenge').digest('hex'),
  hmacKeySignatureSecret: createHmac('sha256', authSecret).update('boxoffice/altcha/key').digest('hex'),
};
const COST = 20;
const newPow = () => new ProofOfWork(authSecret, COST, new InProcessSpentChallenges(), systemClock);

describe('proof of work and altcha-lib agree', () => {
  test('when ours issues a challenge, then altcha-lib solves it and verifies the solution, and no edit of it', async () => {
    const challenge = newPow().issue();
    expect(challenge.parameters.cost).toBe(CHALLENGE_PBKDF2_ITERATIONS);
    const solution = await solveChallenge({ challenge, deriveKey });
    expect(solution).not.toBeNull();
    expect(solution!.counter).toBeGreaterThanOrEqual(COST / 2);
    expect(solution!.counter).toBeLessThanOrEqual(COST);
    const verify = (c: typeof challenge, derivedKey: string) =>
      verifySolution({
        challenge: c,
        solution: { counter: solution!.counter, derivedKey },
        deriveKey,
        ...secrets,
      });
    expect((await verify(challenge, solution!.derivedKey)).verified).toBe(true);
    expect((await verify(challenge, '00'.repeat(32))).verified).toBe(false);
    const edited = {
      ...challenge,
      parameters: { ...challenge.parameters, expiresAt: challenge.parameters.expiresAt + 60 },
    };
    expect((await verify(edited, solution!.derivedKey)).verified).toBe(false);
  });

  test('when altcha-lib makes a challenge with the same secrets, then ours accepts its solution once', async () => {
    const challenge = await createChallenge({
      algorithm: 'PBKDF2/SHA-256',
      cost: CHALLENGE_PBKDF2_ITERATIONS,
      counter: 15,
      deriveKey,
      expiresAt: Math.floor(Date.now() / 1000) + 300,
      ...secrets,
    });
    const solution = await solveChallenge({ challenge, deriveKey });
    const pow = newPow();
    const proof = encodeProof(challenge, solution);
    await expect(pow.redeem(proof)).resolves.toBeUndefined();
    await expect(pow.redeem(proof)).rejects.toMatchObject({ code: 'CHALLENGE_FAILED' });
    const forged = encodeProof(challenge, { ...solution, derivedKey: 'ff'.repeat(32) });
    await expect(newPow().redeem(forged)).rejects.toMatchObject({ code: 'CHALLENGE_FAILED' });
  });
});

describe('spent challenges in process', () => {
  test('when a challenge has expired, then it is forgotten; when the map is full of live ones, then it refuses', async () => {
    const spent = new InProcessSpentChallenges(2);
    expect(await spent.spend('a', 1000, 0)).toBe(true);
    expect(await spent.spend('a', 1000, 500)).toBe(false);
    expect(await spent.spend('b', 2000, 500)).toBe(true);
    await expect(spent.spend('c', 3000, 900)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // 'a' expired at 1000: forgotten, which makes room.
    expect(await spent.spend('c', 3000, 1000)).toBe(true);
    expect(await spent.spend('b', 2000, 1500)).toBe(false);
  });
});

describe('CHALLENGE_COST and SIGNUP_CHALLENGE', () => {
  test('when CHALLENGE_COST is out of range or not a number, then start-up stops naming it', () => {
    for (const value of ['5', '1000001', '1e4', 'lots']) {
      expect(() => loadConfig({ DATA_DIR: 'memory', CHALLENGE_COST: value })).toThrow(/CHALLENGE_COST/);
    }
    const defaults = loadConfig({ DATA_DIR: 'memory' });
    expect(defaults.challengeCost).toBe(DEFAULT_CHALLENGE_COST);
    expect(defaults.signupChallenge).toBe(false);
    expect(() => loadConfig({ DATA_DIR: 'memory', SIGNUP_CHALLENGE: 'maybe' })).toThrow(/SIGNUP_CHALLENGE/);
  });
});
