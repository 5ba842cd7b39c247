import type { Redis } from 'ioredis';
import { challengeJoinsKey } from '../redis/keys.js';

/**
 * The ticket each user got from their latest join of a concert's line. A rejoin
 * is let through without a proof only while that ticket is still live in the line (the queue
 * store decides), so a remembered ticket is a hint, never a pass: losing it (a Redis that came
 * back empty) only costs the buyer a new proof.
 */
export interface ChallengeJoins {
  ticketOf(concertId: string, userId: string): Promise<number | null>;
  remember(concertId: string, userId: string, ticket: number): Promise<void>;
}

/**
 * How long a concert's remembered joins outlast its latest join. While a line is busy every join
 * refreshes it; once joins stop it goes, so Redis returns to its size after a sale. A buyer
 * still waiting then needs a proof for a rejoin, which the web app solves on the 403.
 */
const REMEMBER_MS = 10 * 60_000;

/** Concerts whose renewal time an instance keeps (a bound; forgetting one costs one PEXPIRE). */
const MAX_RENEWALS_KEPT = 10_000;
/** How often an instance renews a concert's expiry (every join would be one command more). */
const RENEW_EVERY_MS = 60_000;

export class RedisChallengeJoins implements ChallengeJoins {
  /** When this instance last renewed each concert's expiry (monotonic ms). */
  private readonly renewed = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async ticketOf(concertId: string, userId: string): Promise<number | null> {
    const value = await this.redis.hget(challengeJoinsKey(this.prefix, concertId), userId);
    return value === null ? null : Number(value);
  }

  async remember(concertId: string, userId: string, ticket: number): Promise<void> {
    const key = challengeJoinsKey(this.prefix, concertId);
    // One command per join; the expiry is renewed once a minute per instance, so the hash still
    // goes within REMEMBER_MS + RENEW_EVERY_MS of the line's latest join.
    const now = performance.now();
    const last = this.renewed.get(concertId);
    if (last !== undefined && now - last < RENEW_EVERY_MS) {
      await this.redis.hset(key, userId, String(ticket));
      return;
    }
    this.renewed.set(concertId, now);
    if (this.renewed.size > MAX_RENEWALS_KEPT) this.renewed.delete(this.renewed.keys().next().value!);
    await this.redis.multi().hset(key, userId, String(ticket)).pexpire(key, REMEMBER_MS).exec();
  }
}

/** Bound of the in-process map; past it the oldest are forgotten (which costs a proof, nothing more). */
const MAX_IN_PROCESS = 1_000_000;

export class InProcessChallengeJoins implements ChallengeJoins {
  private readonly tickets = new Map<string, number>();

  async ticketOf(concertId: string, userId: string): Promise<number | null> {
    return this.tickets.get(`${concertId}/${userId}`) ?? null;
  }

  async remember(concertId: string, userId: string, ticket: number): Promise<void> {
    const key = `${concertId}/${userId}`;
    this.tickets.delete(key);
    if (this.tickets.size >= MAX_IN_PROCESS) this.tickets.delete(this.tickets.keys().next().value!);
    this.tickets.set(key, ticket);
  }
}
