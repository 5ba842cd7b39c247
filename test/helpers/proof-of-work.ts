import { type Challenge, solveChallenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';

/** Solves a challenge as a client would and returns the `proof` to send (base64 ALTCHA payload). */
export async function solve(challenge: Challenge): Promise<string> {
  const solution = await solveChallenge({ challenge, deriveKey });
  if (!solution) throw new Error('the challenge was not solved');
  return encodeProof(challenge, { counter: solution.counter, derivedKey: solution.derivedKey });
}

export function encodeProof(challenge: unknown, solution: unknown): string {
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
}

export function decodeProof(proof: string): { challenge: any; solution: any } {
  return JSON.parse(Buffer.from(proof, 'base64').toString('utf8'));
}
