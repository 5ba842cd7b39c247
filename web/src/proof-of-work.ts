import type { Challenge } from 'altcha-lib';
import { solveChallengeWorkers } from 'altcha-lib';
import { ApiError } from './api';
import type { Store } from './store';

/**
 * Proof of work for lines (and sign-ups) that ask for it (API.md "Proof of work against bots").
 * The page starts solving as soon as the buyer opens a concert (`prepareProof`), in Web Workers,
 * so by the time they press "join" the proof is usually ready and the join carries it; the
 * server ignores it where the concert does not ask. Only a buyer who presses "join" within
 * the first second or so waits, under a short "checking you are human…".
 *
 * How the app learns that a proof is needed: it does not ask. A join (or sign-up) goes out with
 * the proof when one is ready, without when not; a 403 CHALLENGE_FAILED then means "solve and
 * send again", once. So a concert without the challenge never waits for a solve.
 */

interface Pending {
  proof: Promise<string>;
  /** The proof once solved. */
  value?: string;
  /** When the challenge expires (ms); a proof kept past it would be refused. */
  expiresAt: number;
}

/** Margin before the challenge's expiry at which a kept proof is no longer sent. */
const EXPIRY_MARGIN_MS = 30_000;
/** Workers per solve: most phones have 4–8 cores; the page keeps the rest. */
const MAX_WORKERS = 4;

let pending: Pending | null = null;
const listeners = new Set<() => void>();
let solving = false;

function setSolving(value: boolean) {
  solving = value;
  for (const listener of listeners) listener();
}

/** Whether a visible solve is going on ("checking you are human…"). */
export const proofState: Store<boolean> = {
  get: () => solving,
  set: setSolving,
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  },
};

async function solveFresh(): Promise<{ proof: string; expiresAt: number }> {
  const response = await fetch('/api/v1/challenge', { cache: 'no-store' });
  if (!response.ok) throw new ApiError(response.status, { code: 'UNAVAILABLE' });
  const challenge = (await response.json()) as Challenge;
  // Marks for the browser suite and for anyone measuring the solve (README "Proof of work").
  performance.mark('pow-solve-start');
  const solution = await solveChallengeWorkers({
    challenge,
    concurrency: Math.max(1, Math.min(MAX_WORKERS, (navigator.hardwareConcurrency || 2) - 1)),
    createWorker: () => new Worker(new URL('./proof-of-work.worker.ts', import.meta.url), { type: 'module' }),
  });
  if (!solution) throw new ApiError(503, { code: 'UNAVAILABLE' });
  performance.mark('pow-solve-end');
  const payload = { challenge, solution: { counter: solution.counter, derivedKey: solution.derivedKey } };
  return { proof: btoa(JSON.stringify(payload)), expiresAt: (challenge.parameters.expiresAt ?? 0) * 1000 };
}

function start(): Pending {
  const entry: Pending = { proof: Promise.resolve(''), expiresAt: Number.POSITIVE_INFINITY };
  entry.proof = solveFresh().then(
    ({ proof, expiresAt }) => {
      entry.expiresAt = expiresAt;
      entry.value = proof;
      return proof;
    },
    (error) => {
      if (pending === entry) pending = null;
      throw error;
    },
  );
  // A failed background solve is tried again when a proof is actually needed.
  entry.proof.catch(() => {});
  return entry;
}

function usable(entry: Pending | null): entry is Pending {
  return entry !== null && entry.expiresAt - EXPIRY_MARGIN_MS > Date.now();
}

/** Starts solving in the background unless a usable proof is ready or on its way. */
export function prepareProof(): void {
  if (!usable(pending)) pending = start();
}

/** The ready proof, taken (each is accepted once); undefined when none is ready yet. */
function takeReady(): string | undefined {
  if (!usable(pending) || pending.value === undefined) return undefined;
  const { value } = pending;
  pending = null;
  return value;
}

/** The next proof: the one on its way (or a new solve), shown as "checking you are human…". */
async function takeSolved(): Promise<string> {
  prepareProof();
  const entry = pending!;
  pending = null;
  setSolving(true);
  try {
    return await entry.proof;
  } finally {
    setSolving(false);
  }
}

/**
 * Sends `send` with a proof when one is ready (none otherwise); when the server answers
 * 403 CHALLENGE_FAILED, waits for a proof and sends once more.
 */
export async function withProof<T>(send: (proof: string | undefined) => Promise<T>): Promise<T> {
  try {
    return await send(takeReady());
  } catch (error) {
    if (!(error instanceof ApiError) || (error.code as string) !== 'CHALLENGE_FAILED') throw error;
  }
  return send(await takeSolved());
}
