import { createHmac, pbkdf2Sync, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Challenge } from 'altcha-lib';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import type { SpentChallenges } from './spent-challenges.js';

/** How long a challenge may be solved and redeemed (API.md: valid 5 minutes). */
export const CHALLENGE_LIFETIME_MS = 5 * 60_000;

/**
 * PBKDF2 iterations of each step of the solver. PBKDF2 runs natively in browsers (WebCrypto) as
 * in a bot's native code, so a phone is not handicapped against a bot the way a JavaScript loop
 * of single SHA-256 calls would be (one WebCrypto digest per step costs its call overhead,
 * a native loop does not). A few hundred keeps that overhead small and keeps what the server
 * pays to issue a challenge (one derivation) small too.
 */
export const CHALLENGE_PBKDF2_ITERATIONS = 200;
const ALGORITHM = 'PBKDF2/SHA-256';
const KEY_LENGTH = 32;

/** Longest `proof` a join or sign-up accepts: a real payload is about 600 characters. */
export const MAX_PROOF_LENGTH = 2048;

const HEX = /^[0-9a-f]+$/;

/**
 * Proof of work at the door (ALTCHA, altcha-lib v2 in its "deterministic" mode): the server
 * draws the counter, derives the key for it once when it issues the challenge and signs the
 * key, so checking a proof is two HMACs, never a derivation. The secrets are derived from
 * AUTH_SECRET, which every instance shares, so a challenge issued by one instance is checked by
 * any other; each is accepted once (SpentChallenges).
 */
export class ProofOfWork {
  private readonly signatureSecret: string;
  private readonly keySecret: string;

  constructor(
    authSecret: Buffer,
    private readonly cost: number,
    private readonly spent: SpentChallenges,
    private readonly clock: Clock,
  ) {
    // Separate labels: a challenge signature can never pass as a token signature or vice versa.
    this.signatureSecret = derive(authSecret, 'boxoffice/altcha/challenge');
    this.keySecret = derive(authSecret, 'boxoffice/altcha/key');
  }

  /**
   * A fresh signed challenge, valid CHALLENGE_LIFETIME_MS: exactly what altcha-lib's
   * createChallenge makes in deterministic mode (counter drawn by the server, key derived once
   * and signed), made with node:crypto synchronously. The library does its HMACs with WebCrypto,
   * which cost about 350 µs of CPU per challenge here before any key is derived (README "Proof
   * of work"); test/unit/proof-of-work.test.ts checks that the library verifies ours.
   */
  issue(): IssuedChallenge {
    const nonce = randomBytes(16);
    const salt = randomBytes(16);
    // The upper half of the range: no challenge is a lucky near-zero solve.
    const counter = randomInt(Math.ceil(this.cost / 2), this.cost + 1);
    const password = Buffer.alloc(nonce.length + 4);
    nonce.copy(password);
    password.writeUInt32BE(counter, nonce.length);
    const key = pbkdf2Sync(password, salt, CHALLENGE_PBKDF2_ITERATIONS, KEY_LENGTH, 'sha256');
    const parameters = sortKeys({
      algorithm: ALGORITHM,
      nonce: nonce.toString('hex'),
      salt: salt.toString('hex'),
      cost: CHALLENGE_PBKDF2_ITERATIONS,
      keyLength: KEY_LENGTH,
      // altcha-lib's default: the first half of the key, so the solver must find the counter.
      keyPrefix: key.subarray(0, KEY_LENGTH / 2).toString('hex'),
      keySignature: hmacHex(this.keySecret, key),
      expiresAt: Math.floor((this.clock.now() + CHALLENGE_LIFETIME_MS) / 1000),
    }) as IssuedChallenge['parameters'];
    return { parameters, signature: hmacHex(this.signatureSecret, JSON.stringify(parameters)) };
  }

  /**
   * Accepts a proof once, or throws 403 CHALLENGE_FAILED (missing, malformed, forged, edited,
   * expired or already used). The checks cost two HMACs and the spending one store write, made
   * only for a proof that passed them: a flood of garbage writes nothing.
   */
  async redeem(proof: string | undefined): Promise<void> {
    if (proof === undefined) throw failed('Solve GET /api/v1/challenge and send the payload as "proof"');
    const payload = parse(proof);
    if (!payload) throw failed('The proof is not an ALTCHA payload');
    const { challenge, solution } = payload;
    const now = this.clock.now();
    // Our own clock (the library reads Date.now()): tests and skewed instances agree with the service.
    const expiresAtMs = challenge.parameters.expiresAt * 1000;
    if (expiresAtMs <= now) throw failed('The challenge has expired; solve a new one');
    if (!this.verified(challenge, solution.derivedKey)) {
      throw failed('The proof does not solve a challenge this service issued');
    }
    if (!(await this.spent.spend(challenge.parameters.nonce, expiresAtMs, now))) {
      throw failed('This challenge was already used; solve a new one');
    }
  }

  /**
   * altcha-lib's verifySolution, path "key signature" (the only one our challenges take): the
   * parameters are signed as canonical JSON, and the derived key is signed. The same two HMACs
   * with node:crypto, synchronously: the library does them with WebCrypto (an importKey and a
   * sign each, asynchronous), which measured about 220 µs of CPU per proof on this machine
   * against about 50 here (README "Proof of work"). test/unit/proof-of-work.test.ts holds the
   * two to the same answers.
   */
  private verified(challenge: IssuedChallenge, derivedKey: string): boolean {
    const signature = hmacHex(this.signatureSecret, JSON.stringify(sortKeys(challenge.parameters)));
    if (!sameHex(signature, challenge.signature)) return false;
    const keySignature = hmacHex(this.keySecret, Buffer.from(derivedKey, 'hex'));
    return sameHex(keySignature, challenge.parameters.keySignature);
  }
}

function hmacHex(secret: string, data: string | Buffer): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

function sameHex(expected: string, given: string): boolean {
  return expected.length === given.length && timingSafeEqual(Buffer.from(expected), Buffer.from(given));
}

/** altcha-lib's canonical form: keys sorted at every level, undefined members left out. */
function sortKeys(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .flatMap((key) => {
        const member = (value as Record<string, unknown>)[key];
        return member === undefined ? [] : [[key, sortKeys(member)]];
      }),
  );
}

function failed(detail: string): AppError {
  return new AppError('CHALLENGE_FAILED', detail);
}

function derive(secret: Buffer, label: string): string {
  return createHmac('sha256', secret).update(label).digest('hex');
}

/** What `issue` hands out: signed, with its key signed and an expiry. */
export type IssuedChallenge = Challenge & {
  parameters: Challenge['parameters'] & { expiresAt: number; keySignature: string };
  signature: string;
};

interface Payload {
  challenge: IssuedChallenge;
  solution: { counter: number; derivedKey: string };
}

/**
 * The base64 JSON payload, or null unless it has exactly the shape this service issues:
 * the library is then never handed an unexpected type (a number for a string, a missing
 * keySignature that would make it derive a key, an algorithm it would throw on).
 */
function parse(proof: string): Payload | null {
  if (proof.length > MAX_PROOF_LENGTH) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(proof, 'base64').toString('utf8'));
  } catch {
    return null;
  }
  if (!isRecord(value) || !isRecord(value.challenge) || !isRecord(value.solution)) return null;
  const { parameters: p, signature } = value.challenge;
  const { counter, derivedKey } = value.solution;
  if (!isRecord(p) || !isHex(signature) || !isHex(derivedKey)) return null;
  if (typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 0) return null;
  if (p.algorithm !== ALGORITHM || p.cost !== CHALLENGE_PBKDF2_ITERATIONS) return null;
  if (!isHex(p.nonce) || !isHex(p.salt) || !isHex(p.keyPrefix) || !isHex(p.keySignature)) return null;
  if (typeof p.keyLength !== 'number' || typeof p.expiresAt !== 'number' || !Number.isFinite(p.expiresAt))
    return null;
  return value as unknown as Payload;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isHex(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 256 && HEX.test(value);
}
