import type { Redis } from 'ioredis';
import { spentChallengeKey } from '../redis/keys.js';
import { AppError } from '../shared/errors.js';

/** Challenges already redeemed: each is accepted once, until it expires anyway. */
export interface SpentChallenges {
  /** Records the challenge as used; false when it already was. */
  spend(id: string, expiresAtMs: number, now: number): Promise<boolean>;
}

/**
 * Across all instances: one `SET NX` per redeemed challenge, kept for the challenge's remaining
 * lifetime (after it an expired challenge is refused for its date anyway). Single-key commands,
 * so legal on Redis Cluster.
 */
export class RedisSpentChallenges implements SpentChallenges {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async spend(id: string, expiresAtMs: number, now: number): Promise<boolean> {
    const ttlMs = Math.max(1, Math.ceil(expiresAtMs - now));
    return (await this.redis.set(spentChallengeKey(this.prefix, id), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }
}

/** Most challenges remembered in process; a proof of work per entry bounds how fast it fills. */
export const MAX_SPENT_IN_PROCESS = 1_000_000;

/**
 * The embedded service (one instance): a map that forgets challenges once they have expired.
 * Full of unexpired ones, it refuses (503) rather than forget one early, which would let it
 * be used again.
 */
export class InProcessSpentChallenges implements SpentChallenges {
  private readonly spent = new Map<string, number>();

  constructor(private readonly capacity = MAX_SPENT_IN_PROCESS) {}

  async spend(id: string, expiresAtMs: number, now: number): Promise<boolean> {
    const until = this.spent.get(id);
    if (until !== undefined && until > now) return false;
    this.forgetExpired(now);
    if (this.spent.size >= this.capacity) {
      throw new AppError('UNAVAILABLE', 'Too many challenges redeemed at once; try again shortly');
    }
    this.spent.delete(id);
    this.spent.set(id, expiresAtMs);
    return true;
  }

  /**
   * Challenges all live equally long and are mostly redeemed in the order they were issued, so
   * the oldest insertions expire first: stop at the first live one (amortised O(1)). When full,
   * look at every entry once, since an entry redeemed late may sit behind a live one.
   */
  private forgetExpired(now: number): void {
    const full = this.spent.size >= this.capacity;
    for (const [id, until] of this.spent) {
      if (until <= now) this.spent.delete(id);
      else if (!full) break;
    }
  }
}
