import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DEFAULT_PREFIX, seatVersionKey } from '../redis/keys.js';

/**
 * Tells readers of seat state that a concert's seats changed: a hold, a cancellation or a
 * payment has committed. Called after the commit and before the response is sent, so the buyer
 * who acted sees the change on their very next read, whichever instance serves it.
 */
export interface SeatChanges {
  changed(concertId: string): Promise<void>;
}

/** Announces nothing: for code that builds a service without readers to tell. */
export const noSeatChanges: SeatChanges = { changed: async () => {} };

/**
 * A version of each concert's seat state: `changed` gives the concert a new one, and an answer
 * rendered from seat state may be reused only by a request that reads the same version.
 *
 * Why that is exact: a reader takes the version *before* it queries the database, and a writer
 * sets a new one only *after* its commit. So a reader that sees version V queries after V was
 * set, after every commit whose change was announced before V: an answer cached under V holds
 * all of them. Versions are random, never counters, so a version lost with Redis (a restart, a
 * flush, an expiry) can never come back and match an answer rendered before the loss.
 */
export interface SeatVersions extends SeatChanges {
  /**
   * The concert's current version; `undefined` when it has none yet, null when it cannot be
   * known (nothing may be reused then). Reads only: safe before the request is checked.
   */
  peek(concertId: string): Promise<Version>;
  /** A fresh version for a concert that had none, or the one another reader just gave it. */
  start(concertId: string): Promise<string | null>;
}

export type Version = string | null | undefined;

function newVersion(): string {
  // randomUUID takes its bytes from a buffer Node refills once per 128 calls; randomBytes(9) cost a
  // draw from OpenSSL on every hold (1.5 % of the server's CPU in the hold profile).
  return randomUUID();
}

/** For the embedded default: one process serves every request, so the versions live in it. */
export class InProcessSeatVersions implements SeatVersions {
  private readonly versions = new Map<string, string>();

  async peek(concertId: string): Promise<Version> {
    return this.versions.get(concertId);
  }

  async start(concertId: string): Promise<string> {
    let version = this.versions.get(concertId);
    if (version === undefined) {
      version = newVersion();
      this.versions.set(concertId, version);
    }
    return version;
  }

  async changed(concertId: string): Promise<void> {
    this.versions.set(concertId, newVersion());
  }
}

/**
 * Lets an unused concert's version go; the next read starts a fresh one, which is as safe as
 * any other loss (see SeatVersions).
 */
const VERSION_TTL_SECONDS = 24 * 60 * 60;

/**
 * With several instances: the version lives in Redis, so a change made through one instance
 * is seen by every other on its next read (one auto-pipelined GET per read).
 */
export class RedisSeatVersions implements SeatVersions {
  /** Reads of a concert's version not yet sent, shared by every request that arrives meanwhile. */
  private readonly unsent = new Map<string, Promise<Version>>();

  constructor(
    private readonly redis: Redis,
    private readonly onError: (error: Error) => void = () => {},
    private readonly prefix = DEFAULT_PREFIX,
  ) {}

  /**
   * Requests for the same concert that arrive in one turn of the event loop share one read,
   * which is sent only after that turn: every one of them arrived before it was sent, so it
   * is as recent for each as a read of its own (under a rush, one GET instead of dozens).
   */
  peek(concertId: string): Promise<Version> {
    let read = this.unsent.get(concertId);
    if (!read) {
      read = new Promise((resolve) =>
        setImmediate(() => {
          this.unsent.delete(concertId);
          resolve(this.get(concertId));
        }),
      );
      this.unsent.set(concertId, read);
    }
    return read;
  }

  private async get(concertId: string): Promise<Version> {
    try {
      return (await this.redis.get(seatVersionKey(this.prefix, concertId))) ?? undefined;
    } catch (error) {
      this.onError(error as Error);
      return null;
    }
  }

  /** Never set, expired or lost: a fresh one, unless another reader has just set one. */
  async start(concertId: string): Promise<string | null> {
    const fresh = newVersion();
    try {
      const key = seatVersionKey(this.prefix, concertId);
      return (await this.redis.set(key, fresh, 'EX', VERSION_TTL_SECONDS, 'NX', 'GET')) ?? fresh;
    } catch (error) {
      this.onError(error as Error);
      return null;
    }
  }

  /**
   * A failure here is logged, not thrown: the change is committed and its answer must go out.
   * Readers on this instance still see it (the cache forgets the concert locally, see
   * SeatReadCache); other instances reuse their answer at most SeatReadCache's MAX_AGE_MS longer.
   */
  async changed(concertId: string): Promise<void> {
    try {
      await this.redis.set(seatVersionKey(this.prefix, concertId), newVersion(), 'EX', VERSION_TTL_SECONDS);
    } catch (error) {
      this.onError(error as Error);
    }
  }
}
