import { createHash, randomBytes } from 'node:crypto';

/**
 * The pre-queue draw, version 1: a pure function of a seed and the list of pre-queued tickets,
 * written so that anyone can recompute it with nothing but SHA-256 (scripts/verify-draw.mjs
 * does, with no dependency).
 *
 *   tickets  the pre-queued ticket numbers present at the opening, ascending, as decimal text
 *   digest   SHA-256 of the tickets joined by "," (UTF-8; the empty list hashes "")
 *   key      SHA-256(seed bytes ‖ digest bytes)
 *   words    block c = SHA-256(key ‖ c as 4-byte big-endian), c = 0, 1, 2, …; each block gives
 *            eight 32-bit big-endian words, used in order
 *   pick(m)  the next word w below 2^32 − (2^32 mod m) (others are skipped), then w mod m:
 *            uniform on 0 … m−1
 *   shuffle  Fisher–Yates: for i = n−1 down to 1, swap a[i] with a[pick(i + 1)]
 *
 * The result's first ticket is admitted first. The seed is drawn from the operating system's
 * CSPRNG and its commitment SHA-256(seed bytes) is published when the opening is scheduled, so
 * it cannot be chosen after the pre-queue is known; mixing in the digest ties the order to the
 * exact published list.
 */
export function newSeed(): string {
  return randomBytes(32).toString('hex');
}

export function commitmentOf(seedHex: string): string {
  return sha256(Buffer.from(seedHex, 'hex')).toString('hex');
}

export function ticketsDigest(sortedTickets: readonly number[]): Buffer {
  return sha256(Buffer.from(sortedTickets.join(','), 'utf8'));
}

/** The drawn order of `tickets` (any order; they are sorted first). */
export function drawOrder(seedHex: string, tickets: readonly number[]): number[] {
  const sorted = [...tickets].sort((a, b) => a - b);
  const key = sha256(Buffer.concat([Buffer.from(seedHex, 'hex'), ticketsDigest(sorted)]));
  const next = wordStream(key);
  const a = sorted;
  for (let i = a.length - 1; i >= 1; i--) {
    const j = pick(next, i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

const TWO_32 = 2 ** 32;

function pick(next: () => number, m: number): number {
  const limit = TWO_32 - (TWO_32 % m);
  for (;;) {
    const w = next();
    if (w < limit) return w % m;
  }
}

function wordStream(key: Buffer): () => number {
  let counter = 0;
  let block: Buffer = Buffer.alloc(0);
  let offset = 0;
  return () => {
    if (offset >= block.length) {
      const c = Buffer.alloc(4);
      c.writeUInt32BE(counter++);
      block = sha256(Buffer.concat([key, c]));
      offset = 0;
    }
    const w = block.readUInt32BE(offset);
    offset += 4;
    return w;
  };
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}
