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

export class RedisChallengeJoins implements ChallengeJoins {
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
