import type { Redis } from 'ioredis';

/**
 * A fixed-window budget of attempts per key (an address), for guesses at a secret: every
 * attempt takes one unit before the secret is compared, and a right guess gives it back, so
 * only failures stay counted. Taking first makes the budget exact under concurrency: N
 * simultaneous guesses from one address take N units, and none is compared once the budget
 * is spent.
 */
export interface AttemptBudget {
  /** Takes one attempt; refused (with seconds until the window ends) when the budget is spent. */
  take(key: string): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }>;
  /** Returns an attempt taken by a request that turned out to be right. */
  giveBack(key: string): Promise<void>;
}

/** One instance's budget: enough without Redis, where there is only one instance. */
export class MemoryAttemptBudget implements AttemptBudget {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async take(key: string) {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || w.endsAt <= now) {
      // Bounded: forgetting every window at worst gives each address a fresh budget.
      if (this.windows.size >= 100_000) this.windows.clear();
      w = { count: 0, endsAt: now + this.windowMs };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count <= this.max) return { allowed: true as const };
    return { allowed: false as const, retryAfterSeconds: Math.max(1, Math.ceil((w.endsAt - now) / 1000)) };
  }

  async giveBack(key: string) {
    const w = this.windows.get(key);
    if (w && w.count > 0) w.count--;
  }
}

const TAKE = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;
const GIVE_BACK = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return 0`;

/** The budget shared by every instance, so guesses spread over a cluster count once. */
export class RedisAttemptBudget implements AttemptBudget {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  async take(key: string) {
    const [count, ttl] = (await this.redis.eval(TAKE, 1, this.prefix + key, this.windowMs)) as [
      number,
      number,
    ];
    if (count <= this.max) return { allowed: true as const };
    return { allowed: false as const, retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
  }

  async giveBack(key: string) {
    await this.redis.eval(GIVE_BACK, 1, this.prefix + key);
  }
}
