import type { RedisClient } from '../redis/connection.js';

/**
 * What the pre-queue of a scheduled sale (sale/) may use of a concert's line: it takes its
 * tickets from the line's own sequence and puts drawn users into the line. Each queue store
 * hands out its own kind; sale/prequeue-of.ts builds the matching pre-queue store.
 */
export type PrequeueLine =
  | { kind: 'memory'; line: MemoryLineAccess }
  | { kind: 'redis'; line: RedisLineAccess };

/** The in-process line (MemoryQueueStore). */
export interface MemoryLineAccess {
  /** The next ticket number of the concert's line. */
  nextTicket(concertId: string, now: number): number;
  /** Moves the line's sequence on by n; returns the number before. */
  reserveTickets(concertId: string, n: number, now: number): number;
  /** Adds a WAITING ticket for the user, seen now, as a join would. */
  insertWaiting(concertId: string, ticket: number, userId: string, now: number): void;
  idleTimeoutMs(): number;
}

/** The line in Redis (RedisQueueStore): the pre-queue's scripts write the line's keys themselves. */
export interface RedisLineAccess {
  redis: RedisClient;
  /** The store's key prefix (redis/keys.ts). */
  prefix: string;
  idleTimeoutMs: number;
  /** Marks the line joined on the registry of live lines, as a join does. */
  register(concertId: string, now: number): Promise<unknown>;
  /** The Lua fragments of the line (queue/lua/includes) the pre-queue's scripts include. */
  luaIncludes: string;
}
